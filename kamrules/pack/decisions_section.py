"""The `decisions` section: outputs, rules, decision tables (cells built straight into the tree),
hit policies, engine limits and shadowed rules."""

from __future__ import annotations

import re
from typing import Any

from kamrules.errors import Location
from kamrules.language import expr as ex
from kamrules.language.cells import cell_condition
from kamrules.pack.conditions import _atoms, _implies, branch_count
from kamrules.pack.checker import Checker
from kamrules.pack.core_traps import text_problem
from kamrules.pack.guards import because_format_problem
from kamrules.pack.hitpolicy import POLICIES, HitPolicy
from kamrules.pack.model import (
    MAX_BRANCHES_PER_DECISION,
    MAX_COMPARISONS_PER_RULE,
    MAX_FIELDS_PER_DECISION,
    OUTPUT_TYPES,
    Decision,
    OutputSpec,
    ParamValue,
    Rule,
    symbol_table,
)
from kamrules.pack.yamlsrc import YList, YMap

_BAD = object()


class DecisionSections(Checker):
    """Loads `decisions`: outputs first (later decisions read them), then rules or tables."""

    def load_decisions(self, derived: list) -> list:
        raw = self.decision_specs()
        # outputs first: later decisions may read earlier ones' outputs
        hits: dict[str, HitPolicy] = {}
        outputs_of: dict[str, dict] = {}
        for decision_id, (spec, loc) in raw.items():
            where = f"decision '{decision_id}': "
            self.unknown_keys(spec, ("title", "description", "hit", "outputs", "rules", "table", "default"), where)
            hit = spec.get("hit", "first")
            if not isinstance(hit, str) or hit not in POLICIES:
                self.error(spec.value_loc("hit"), f"{where}hit: '{hit}' is not one of {', '.join(POLICIES)}{ex.did_you_mean(str(hit), list(POLICIES))}")
                outputs = spec.get("outputs")
                self.poisoned |= {f"{decision_id}_count", *(outputs if isinstance(outputs, dict) else ())}
                continue
            hits[decision_id] = policy = POLICIES[hit]
            outputs = self.load_outputs(decision_id, spec, where)
            if outputs is None:
                self.poisoned.add(f"{decision_id}_count")
                continue
            outputs_of[decision_id] = outputs
            if policy.lists:
                self.claim(f"{decision_id}_count", f"count of decision '{decision_id}'", loc)
                for oname, ospec in outputs.items():
                    if ospec.total:
                        self.claim(f"{oname}_total", f"decision '{decision_id}' total", loc)
            elif any(o.total for o in outputs.values()):
                name = next(o for o, spec_ in outputs.items() if spec_.total)
                self.error(spec.value_loc("hit") if "hit" in spec else loc,
                           f"{where}output '{name}': total: only a collect decision adds up its outputs")
        all_symbols, owner = self.output_symbols(derived, outputs_of, hits)
        collect_outputs = {o for d, outs in outputs_of.items() if hits[d].lists for o in outs}
        built: dict[str, Decision] = {}
        for decision_id, outputs in outputs_of.items():
            spec, loc = raw[decision_id]
            visible = {k: v for k, v in all_symbols.items() if owner.get(k) != decision_id}
            decision = self.build_decision(decision_id, spec, loc, hits[decision_id], outputs, visible, collect_outputs)
            if decision is not None:
                built[decision_id] = decision
        deps = {d.id: {owner[n] for n in d.reads if n in owner} for d in built.values()}
        order = self.topo(deps, {d: built[d].loc for d in built}, "decision")
        return [built[d] for d in order]

    def decision_specs(self) -> dict[str, tuple[YMap, Location]]:
        """Every decision's mapping by id, in definition order (bad names and duplicates reported)."""
        raw: dict[str, tuple[YMap, Location]] = {}
        for section, _ in self.sections["decisions"]:
            for decision_id, spec in section.items():
                loc = section.key_loc(decision_id)
                if not self.check_name(decision_id, loc, "decision"):
                    continue
                if decision_id in raw:
                    self.error(loc, f"decision '{decision_id}' is already defined at {raw[decision_id][1]}")
                    continue
                if not isinstance(spec, YMap):
                    self.error(section.value_loc(decision_id), f"decision '{decision_id}': must be a mapping with 'hit', 'outputs' and 'rules'")
                    continue
                raw[decision_id] = (spec, loc)
        return raw

    def output_symbols(self, derived: list, outputs_of: dict, hits: dict) -> tuple[dict, dict]:
        """The names rules may read (fields, features, other decisions' outputs and counts), and which
        decision owns each output name."""
        symbols = symbol_table(self.fields, derived, [], include_outputs=False)
        owner: dict[str, str] = {}
        for decision_id, outputs in outputs_of.items():
            for oname, ospec in outputs.items():
                owner[oname] = decision_id
                if hits[decision_id].lists:
                    continue  # lists: read their count instead
                symbols[oname] = ex.Symbol(oname, ex.STRING if ospec.type == "text" else ospec.type, "output", ospec.values)
            if hits[decision_id].lists:
                symbols[f"{decision_id}_count"] = ex.Symbol(f"{decision_id}_count", ex.NUMBER, "count")
                owner[f"{decision_id}_count"] = decision_id
                for oname, ospec in outputs.items():
                    if ospec.total:
                        symbols[f"{oname}_total"] = ex.Symbol(f"{oname}_total", ex.NUMBER, "count")
                        owner[f"{oname}_total"] = decision_id
        return symbols, owner

    def load_outputs(self, decision_id: str, spec: YMap, where: str) -> dict | None:
        raw = spec.get("outputs")
        if not isinstance(raw, YMap) or not raw:
            self.error(spec.value_loc("outputs") if "outputs" in spec else spec.loc,
                       f"{where}outputs: list the decision's outputs, as in outputs: {{tier: {{type: category, values: [key, standard]}}}}")
            return None
        outputs: dict[str, OutputSpec] = {}
        for oname, ospec in raw.items():
            oloc = raw.key_loc(oname)
            owhere = f"{where}output '{oname}': "
            if not self.check_name(oname, oloc, "output") or not self.claim(oname, "output", oloc):
                continue
            if isinstance(ospec, str):
                otype, ospec = ospec, YMap()
                ospec.loc, ospec.key_locs, ospec.value_locs, ospec.value_styles = oloc, {}, {}, {}
            elif isinstance(ospec, YMap):
                self.unknown_keys(ospec, ("type", "values", "label", "total"), owhere)
                otype = ospec.get("type", "string")
            else:
                self.error(raw.value_loc(oname), f"{owhere}must be a type name or a mapping with 'type'")
                continue
            if otype not in OUTPUT_TYPES:
                self.error(ospec.value_loc("type") if "type" in ospec else raw.value_loc(oname),
                           f"{owhere}type '{otype}' is not one of {', '.join(OUTPUT_TYPES)}{ex.did_you_mean(str(otype), OUTPUT_TYPES)}")
                continue
            values: list = []
            value_labels: dict = {}
            rawv = ospec.get("values")
            if otype == "category":
                if isinstance(rawv, list):
                    values = [str(v) for v in rawv]
                elif isinstance(rawv, YMap):
                    for v, text in rawv.items():
                        values.append(str(v))
                        if text is not None:
                            value_labels[str(v)] = self.text(text, rawv.value_loc(v), f"{owhere}values.{v}")
                else:
                    self.error(ospec.loc, f"{owhere}a category output needs 'values' (a list, or a mapping value → label)")
                    continue
            elif rawv is not None:
                self.error(ospec.key_loc("values"), f"{owhere}values: only category outputs list values")
            total = ospec.get("total", False)
            if total is not False and (total is not True or otype != "number"):
                self.error(ospec.value_loc("total"), f"{owhere}total: write 'total: true' on a number output of a "
                           f"collect decision (its sum over the rules that fire, as {oname}_total)")
                continue
            outputs[oname] = OutputSpec(oname, otype, tuple(values), value_labels,
                                        self.text(ospec.get("label"), ospec.value_loc("label"), f"{owhere}label"),
                                        total=bool(total))
        return outputs

    def build_decision(self, decision_id, spec, loc, policy: HitPolicy, outputs, symbols,
                       collect_outputs) -> Decision | None:
        where = f"decision '{decision_id}'"
        rules_raw = spec.get("rules")
        table = spec.get("table")
        if rules_raw is not None and table is not None:
            self.error(spec.key_loc("table"), f"{where}: give either 'rules' or 'table', not both")
            return None
        if rules_raw is None and table is None:
            self.error(spec.loc, f"{where}: needs 'rules' (or a 'table')")
            return None
        if table is not None:
            rule_specs = self.table_rules(decision_id, table, outputs, symbols)
            if rule_specs is None:
                return None
        else:
            if not isinstance(rules_raw, YList) or not rules_raw:
                self.error(spec.value_loc("rules"), f"{where}: rules: must be a list of rules ({{id, when, then}})")
                return None
            rule_specs = [(item, rules_raw.item_locs[i]) for i, item in enumerate(rules_raw)]
        rules: list[Rule] = []
        seen: dict[str, Location] = {}
        for i, (item, item_loc) in enumerate(rule_specs):
            rule = self.build_rule(decision_id, policy, i, item, item_loc, outputs, symbols, collect_outputs)
            if rule is None:
                continue
            if rule.id in seen:
                self.error(rule.loc, f"{where} → rule '{rule.id}': duplicate rule id (first at line {seen[rule.id].line})")
                continue
            seen[rule.id] = rule.loc
            rules.append(rule)
        default = None
        if "default" in spec:
            if policy.lists:
                self.error(spec.key_loc("default"), f"{where}: default: a collect decision has no default (no match gives empty lists)")
            else:
                default = self.outputs_values(spec, "default", outputs, f"{where} → default: ", partial=False)
        if len(rules) != len(rule_specs):
            return None
        branches = sum(branch_count(r.when) for r in rules)
        if branches > MAX_BRANCHES_PER_DECISION:
            self.error(loc, f"{where}: its rules make {branches} engine branches (one per rule, one per "
                            f"'or' alternative); the engine takes at most {MAX_BRANCHES_PER_DECISION} per decision: "
                            "split it into two decisions, or move 'or' parts into features")
            return None
        reads = set().union(*(r.reads for r in rules)) if rules else set()
        if len(reads) > MAX_FIELDS_PER_DECISION:
            self.error(loc, f"{where}: reads {len(reads)} names; the engine takes at most {MAX_FIELDS_PER_DECISION}: split the decision")
            return None
        if policy.shadows_in_file_order:
            self.check_shadowed(decision_id, rules)
        return Decision(
            id=decision_id, hit=policy.name, outputs=outputs, rules=tuple(rules), default=default,
            title=self.text(spec.get("title"), spec.value_loc("title"), f"{where}: title"),
            description=self.text(spec.get("description"), spec.value_loc("description"), f"{where}: description"),
            reads=frozenset(reads), loc=loc,
        )

    def table_rules(self, decision_id: str, table: Any, outputs: dict, symbols: dict) -> list | None:
        where = f"decision '{decision_id}' → table: "
        if not isinstance(table, YMap):
            self.error(getattr(table, "loc", Location("?")), f"{where}must be a mapping with inputs, outputs and rows")
            return None
        self.unknown_keys(table, ("inputs", "outputs", "rows", "ids", "because", "source"), where)
        inputs, touts, rows = table.get("inputs"), table.get("outputs"), table.get("rows")
        if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
            self.error(table.value_loc("inputs") if "inputs" in table else table.loc, f"{where}inputs: list the input names")
            return None
        for name in inputs:
            if name not in symbols:
                self.error(table.value_loc("inputs"), f"{where}inputs: unknown name '{name}'{ex.did_you_mean(name, symbols)}")
                return None
        if touts is None:
            touts = list(outputs)
        if not isinstance(touts, list) or any(o not in outputs for o in touts):
            bad = [o for o in (touts if isinstance(touts, list) else [touts]) if o not in outputs]
            self.error(table.value_loc("outputs"), f"{where}outputs: unknown output '{bad[0] if bad else touts}' (outputs: {', '.join(outputs)})")
            return None
        if not isinstance(rows, YList) or not rows:
            self.error(table.value_loc("rows") if "rows" in table else table.loc, f"{where}rows: list one row per combination")
            return None
        ids = table.get("ids")
        if ids is not None and (not isinstance(ids, list) or len(ids) != len(rows)):
            self.error(table.value_loc("ids"), f"{where}ids: give one id per row ({len(rows)})")
            return None
        specs = []
        width = len(inputs) + len(touts)
        for r, row in enumerate(rows):
            rloc = rows.item_locs[r]
            if not isinstance(row, list) or len(row) != width:
                self.error(rloc, f"{where}row {r + 1}: needs {width} cells ({', '.join(inputs)} | {', '.join(touts)}), found {len(row) if isinstance(row, list) else 1}")
                return None
            when = self.row_condition(inputs, row, symbols, f"{where}row {r + 1}: ", rloc)
            if when is None:
                return None
            item = YMap({"id": str(ids[r]) if ids else f"row{r + 1}", "when": ex.describe(when),
                         "then": YMap(zip(touts, row[len(inputs):]))})
            item.loc, item.key_locs, item.value_locs, item.value_styles = rloc, {}, {"when": rloc}, {"when": "|"}
            item["then"].loc, item["then"].key_locs, item["then"].value_locs, item["then"].value_styles = rloc, {}, {}, {}
            item.node = when
            if "because" in table:
                item["because"] = table["because"]
            if "source" in table:
                item["source"] = table["source"]
            item.value_locs.update({"because": table.value_loc("because"), "source": table.value_loc("source")})
            specs.append((item, rloc))
        return specs

    def row_condition(self, inputs: list, row: list, symbols: dict, where: str, rloc: Location) -> ex.Node | None:
        """A table row's input cells as one condition tree (cells are never turned back into text)."""
        terms = []
        cell_locs = getattr(row, "item_locs", [rloc] * len(row))
        for i, (name, cell) in enumerate(zip(inputs, row[: len(inputs)])):
            try:
                term = cell_condition(name, cell, symbols[name].type)
            except ex.ExprError as exc:
                self.error(cell_locs[i], f"{where}{name}: {exc.message}")
                return None
            if term is not None:
                terms.append(term)
        if not terms:
            return ex.Const(True, ex.BOOLEAN)
        return terms[0] if len(terms) == 1 else ex.And(tuple(terms))

    def build_rule(self, decision_id, policy, index, item, item_loc, outputs, symbols, collect_outputs) -> Rule | None:
        if not isinstance(item, YMap):
            self.error(item_loc, f"decision '{decision_id}' → rule {index + 1}: must be a mapping with id, when, then")
            return None
        rule_id = item.get("id")
        if rule_id is None:
            self.error(item.loc, f"decision '{decision_id}' → rule {index + 1}: needs an 'id'")
            return None
        rule_id = str(rule_id)
        where = f"decision '{decision_id}' → rule '{rule_id}': "
        if not re.fullmatch(r"[A-Za-z0-9_\-.]+", rule_id):
            self.error(item.value_loc("id"), f"{where}id: use letters, digits, '_', '-' and '.'")
            return None
        self.unknown_keys(item, ("id", "when", "then", "because", "source", "priority"), where)
        if "when" not in item:
            self.error(item.loc, f"{where}needs 'when' (write 'when: true' for a rule that always applies)")
            return None
        node = getattr(item, "node", None) or self.parse_expr(item, "when", where)
        if node is None:
            return None
        read_collect = ex.names_in(node) & collect_outputs
        if read_collect:
            name = sorted(read_collect)[0]
            self.error(item.text_loc("when", 0), f"{where}when: '{name}' is a list from a collect decision; read its count instead")
            return None
        resolved, _ = self.resolve(node, item, "when", where, symbols, condition=True)
        if resolved is None:
            return None
        comparisons = sum(1 for n in _atoms(resolved))
        if comparisons > MAX_COMPARISONS_PER_RULE:
            self.error(item.value_loc("when"), f"{where}when: {comparisons} comparisons; the engine takes at most {MAX_COMPARISONS_PER_RULE} in one rule: move parts into features")
            return None
        then = self.outputs_values(item, "then", outputs, where, partial=policy.lists)
        if then is None:
            return None
        priority = self.rule_priority(item, policy, where)
        if priority is None:
            return None
        because = self.text(item.get("because"), item.value_loc("because"), f"{where}because")
        for lang, text in because.items():
            if (problem := because_format_problem(text)) is not None:  # bounded at load time (guards.py)
                self.error(item.value_loc("because"), f"{where}because ({lang}): {problem}")
                return None
            for placeholder in re.findall(r"\{([^{}:]+)(?::[^{}]*)?\}", text):
                name = placeholder.strip()
                known = name in symbols or name in outputs or (name.startswith("params.") and name[7:] in self.params_values)
                if not known:
                    self.error(item.value_loc("because"), f"{where}because ({lang}): unknown name '{{{name}}}'{ex.did_you_mean(name, list(symbols) + ['params.' + p for p in self.params_values])}")
                    return None
        reads = ex.names_in(resolved)
        return Rule(id=rule_id, when_text=str(item["when"]), when=resolved, then=then, because=because,
                    source=self.source(item, where), priority=priority,
                    reads=frozenset(reads), loc=item.loc)

    def rule_priority(self, item: YMap, policy: HitPolicy, where: str) -> int | None:
        """The rule's priority: 0 outside 'priority' decisions, None after an error."""
        priority = item.get("priority", 0)
        if not policy.priorities:
            if "priority" in item:
                self.warn(item.key_loc("priority"), f"{where}priority: only 'priority' decisions use it; it is ignored")
            return 0
        if "priority" not in item or isinstance(priority, bool) or not isinstance(priority, int):
            self.error(item.value_loc("priority") if "priority" in item else item.loc,
                       f"{where}priority: a 'priority' decision needs a whole-number priority on every rule (higher wins)")
            return None
        if not 0 <= priority <= 60000:
            self.error(item.value_loc("priority"), f"{where}priority: must be between 0 and 60000")
            return None
        return priority

    def outputs_values(self, item: YMap, key: str, outputs: dict, where: str, partial: bool) -> dict | None:
        values = item.get(key)
        if not isinstance(values, YMap):
            self.error(item.value_loc(key) if key in item else item.loc,
                       f"{where}{key}: give the outputs it sets, as in {key}: {{{next(iter(outputs))}: ...}}")
            return None
        result = {}
        ok = True
        for name, value in values.items():
            if name not in outputs:
                self.error(values.key_loc(name), f"{where}{key}: unknown output '{name}'{ex.did_you_mean(str(name), outputs)} (outputs: {', '.join(outputs)})")
                ok = False
                continue
            checked = self.output_value(outputs[name], value, values.value_loc(name), f"{where}{key}.{name}: ")
            if checked is _BAD:
                ok = False
                continue
            result[name] = checked
        missing = [o for o in outputs if o not in result and o not in values]
        if missing and not partial and ok:
            self.error(values.loc, f"{where}{key}: sets no value for {', '.join(repr(m) for m in missing)}: every rule sets every output")
            return None
        return result if ok else None

    def output_value(self, spec: OutputSpec, value: Any, loc: Location, where: str) -> Any:
        if value is None:
            return None
        if spec.type == "category":
            if str(value) not in spec.values:
                self.error(loc, f"{where}'{value}' is not one of {', '.join(spec.values)}{ex.did_you_mean(str(value), spec.values)}")
                return _BAD
            if (problem := text_problem(str(value))) is not None:  # later decisions compare it (core_traps.py)
                self.error(loc, f"{where}{problem}")
                return _BAD
            return str(value)
        if spec.type == "number":
            if isinstance(value, str) and value.strip().startswith("params."):
                name = value.strip()[len("params."):]
                param = self.params_values.get(name)
                if name not in self.params_values:
                    self.error(loc, f"{where}unknown parameter '{value.strip()}'{ex.did_you_mean(name, list(self.params_values))}")
                    return _BAD
                if isinstance(param, bool) or not isinstance(param, (int, float)):
                    self.error(loc, f"{where}params.{name} is not a number")
                    return _BAD
                return ParamValue(ex.rnd(param), name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.error(loc, f"{where}'{value}' is not a number (or params.NAME)")
                return _BAD
            return ex.rnd(value)
        if spec.type == "boolean":
            if not isinstance(value, bool):
                self.error(loc, f"{where}'{value}' is not true or false")
                return _BAD
            return value
        if spec.type == "text":
            text = self.text(value, loc, where.rstrip(": "))
            return text or _BAD
        if isinstance(value, (dict, list)):
            self.error(loc, f"{where}must be plain text")
            return _BAD
        if (problem := text_problem(str(value))) is not None:  # later decisions compare it (core_traps.py)
            self.error(loc, f"{where}{problem}")
            return _BAD
        return str(value)

    def check_shadowed(self, decision_id: str, rules: list) -> None:
        for j, later in enumerate(rules):
            for earlier in rules[:j]:
                if _implies(later.when, earlier.when):
                    self.error(
                        later.loc,
                        f"decision '{decision_id}' → rule '{later.id}': can never fire: rule '{earlier.id}' comes "
                        f"first and matches every account this one matches (hit: first); reorder or narrow them",
                    )
                    break
