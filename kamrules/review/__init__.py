"""The account review cycle: what people add to a plan that no export holds, kept across reruns.

One module per concept, each reading its own user-written file (CSV, any format the data reader reads,
or YAML) through `files`:

- `overrides`: `evaluate --overrides FILE` — a decision output set by hand, with a reason, an owner and
  an end date; applied after the rules (the outputs that follow from it follow it);
- `contacts`: `evaluate --contacts FILE` — the customer's people and their part in the decision; fills
  the playbook's contact map and gives rules stakeholder facts;
- `notes`: `evaluate --notes FILE` — what people write per account and playbook section;
- `tasks`: actions.csv rows as tasks that live across reviews (a stable id; new, open, resolved);
- `objectives`: the targets the last review's playbooks set, measured against this period.

The layer sits above `results` and below `documents`: it reads an evaluation and the data layer's
files, and the documents show what it found (docs/review-cycle.md).
"""
