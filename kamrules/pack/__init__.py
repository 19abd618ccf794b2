"""Rule packs: the model (fields, params, features, scores, decisions), the YAML source with its
locations, and the loader that checks every file and reports all problems at once."""

from kamrules.pack.conditions import (
    absent_names,
    branch_count,
    can_fire_without,
    rules_without_data,
)
from kamrules.pack.fields import FIELD_TYPES, FieldSpec, normalise_header
from kamrules.pack.hitpolicy import HIT_POLICIES, POLICIES, HitPolicy, recorded_lists
from kamrules.pack.loader import load_pack
from kamrules.pack.model import (
    MAX_BRANCHES_PER_DECISION,
    MAX_COMPARISONS_PER_RULE,
    MAX_FIELDS_PER_DECISION,
    AttributeSpec,
    Band,
    Criterion,
    Decision,
    FeatureSpec,
    OutputSpec,
    ParamSpec,
    Rule,
    RulePack,
    ScoreSpec,
    pick,
)

__all__ = [
    "FIELD_TYPES", "FieldSpec", "normalise_header", "HIT_POLICIES", "POLICIES", "HitPolicy", "MAX_BRANCHES_PER_DECISION",
    "MAX_COMPARISONS_PER_RULE", "MAX_FIELDS_PER_DECISION", "AttributeSpec", "Band", "Criterion", "Decision", "FeatureSpec",
    "OutputSpec", "ParamSpec", "Rule", "RulePack", "ScoreSpec", "absent_names", "branch_count",
    "can_fire_without", "load_pack", "pick", "recorded_lists", "rules_without_data",
]
