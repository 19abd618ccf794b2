"""The `features` and `scores` sections: derived values, checked and ordered by what they read."""

from __future__ import annotations

from kamrules.errors import Location
from kamrules.language import expr as ex
from kamrules.pack.checker import Checker
from kamrules.pack.model import (
    FEATURE_FUNCTIONS,
    GROUP_FUNCTIONS,
    Band,
    Criterion,
    FeatureSpec,
    ScoreSpec,
    expr_type,
)
from kamrules.pack.yamlsrc import YList, YMap


class DerivedSections(Checker):
    """Loads `features` and `scores` in dependency order; a failed one poisons its name."""

    def load_derived(self) -> list:
        raw: dict[str, tuple] = {}  # name -> (kind, mapping, key, loc)
        for kind in ("features", "scores"):
            for section, _ in self.sections[kind]:
                for name, spec in section.items():
                    loc = section.key_loc(name)
                    what = "feature" if kind == "features" else "score"
                    if not self.check_name(name, loc, what) or not self.claim(name, what, loc):
                        continue
                    if not isinstance(spec, YMap):
                        self.error(section.value_loc(name), f"{what} '{name}': must be a mapping"
                                   + (" with one function, as in {share_of: sales}" if what == "feature" else ""))
                        continue
                    raw[name] = (what, spec, loc)
        # dependencies between derived values, from the names they read (before types are known)
        deps: dict[str, set[str]] = {}
        parsed: dict[str, dict] = {}
        for name, (what, spec, loc) in raw.items():
            info = self.pre_feature(name, spec) if what == "feature" else self.pre_score(name, spec)
            if info is None:
                continue
            parsed[name] = info
            deps[name] = {n for n in info["reads"] if n in raw}
        order = self.topo(deps, {n: raw[n][2] for n in deps}, "feature")
        derived: list = []
        self.scores: dict[str, ScoreSpec] = {}
        self.score_names = [n for n, (what, _, _) in raw.items() if what == "score"]
        symbols = {n: ex.Symbol(n, expr_type(f.type), "field", f.values) for n, f in self.fields.items()}
        for name in order:
            what, spec, loc = raw[name]
            info = parsed[name]
            item = self.build_feature(name, spec, loc, info, symbols) if what == "feature" else \
                self.build_score(name, spec, loc, info, symbols)
            if item is None:
                continue
            derived.append(item)
            if isinstance(item, ScoreSpec):
                self.scores[name] = item
            symbols[name] = ex.Symbol(name, item.type, what, getattr(item, "values", ()))
        self.poisoned |= set(raw) - {d.name for d in derived}
        return derived

    def pre_feature(self, name: str, spec: YMap) -> dict | None:
        where = f"feature '{name}': "
        functions = [k for k in spec if k in FEATURE_FUNCTIONS]
        allowed = (*FEATURE_FUNCTIONS, "within", "where", "bands", "order", "ties", "label", "description")
        for key in spec:
            if key not in allowed:
                self.warn(spec.key_loc(key), f"{where}unknown key '{key}'{ex.did_you_mean(str(key), allowed)}; it is ignored")
        if len(functions) != 1:
            self.error(
                spec.loc,
                f"{where}" + ("needs one function" if not functions else f"has {len(functions)} functions ({', '.join(functions)})")
                + f": one of {', '.join(FEATURE_FUNCTIONS)}",
            )
            return None
        function = functions[0]
        reads: set[str] = set()
        info: dict = {"function": function}
        if function == "expr":
            node = self.parse_expr(spec, "expr", where)
            if node is None:
                return None
            info["node"] = node
            reads |= ex.names_in(node)
        elif function == "count":
            if spec["count"] is not True:
                self.error(spec.value_loc("count"), f"{where}count: write 'count: true' (with optional within/where)")
                return None
        else:
            arg = spec[function]
            if not isinstance(arg, str):
                self.error(spec.value_loc(function), f"{where}{function}: must name "
                           + ("a score" if function == "criteria_of" else "a field or feature"))
                return None
            reads.add(arg)
        if "within" in spec:
            if function not in GROUP_FUNCTIONS:
                self.error(spec.key_loc("within"), f"{where}within: only {', '.join(GROUP_FUNCTIONS)} work within groups")
                return None
            if not isinstance(spec["within"], str):
                self.error(spec.value_loc("within"), f"{where}within: must name a field")
                return None
            reads.add(spec["within"])
        if "where" in spec:
            if function not in GROUP_FUNCTIONS:
                self.error(spec.key_loc("where"), f"{where}where: only {', '.join(GROUP_FUNCTIONS)} take a condition")
                return None
            node = self.parse_expr(spec, "where", where)
            if node is None:
                return None
            info["where"] = node
            reads |= ex.names_in(node)
        info["reads"] = reads
        return info

    def pre_score(self, name: str, spec: YMap) -> dict | None:
        where = f"score '{name}': "
        self.unknown_keys(spec, ("title", "description", "normalise", "normalize", "criteria", "min_criteria"), where)
        criteria = spec.get("criteria")
        if not isinstance(criteria, YList) or not criteria:
            self.error(spec.value_loc("criteria") if "criteria" in spec else spec.loc,
                       f"{where}criteria: must be a list of {{field: ..., weight: ...}}")
            return None
        reads = set()
        for i, criterion in enumerate(criteria):
            if isinstance(criterion, YMap) and isinstance(criterion.get("field"), str):
                reads.add(criterion["field"])
        return {"reads": reads}

    def build_feature(self, name: str, spec: YMap, loc: Location, info: dict, symbols: dict) -> FeatureSpec | None:
        where = f"feature '{name}': "
        function = info["function"]
        within = spec.get("within")
        if within is not None and within not in symbols:
            self.error(spec.value_loc("within"), f"{where}within: unknown name '{within}'{ex.did_you_mean(within, symbols)}")
            return None
        where_node = None
        if "where" in info:
            where_node, _ = self.resolve(info["where"], spec, "where", where, symbols, condition=True)
            if where_node is None:
                return None
        common = dict(name=name, function=function, within=within, where=where_node, loc=loc,
                      label=self.text(spec.get("label"), spec.value_loc("label"), f"{where}label"),
                      description=self.text(spec.get("description"), spec.value_loc("description"), f"{where}description"),
                      reads=frozenset(info["reads"]))
        if function == "expr":
            node, vtype = self.resolve(info["node"], spec, "expr", where, symbols, condition=False)
            if node is None:
                return None
            if vtype not in (ex.NUMBER, ex.BOOLEAN):
                self.error(spec.value_loc("expr"), f"{where}expr: gives a {vtype}; an expression feature must give a number or a condition")
                return None
            return FeatureSpec(arg=node, type=vtype, **common)
        if function == "count":
            return FeatureSpec(arg=True, **common)
        if function == "criteria_of":
            score = self.scores.get(spec[function])
            if score is None:
                if spec[function] in self.score_names:
                    return None  # the score itself failed: its own error is reported
                known = self.score_names
                self.error(spec.value_loc(function), f"{where}criteria_of: '{spec[function]}' is not a score"
                           + (ex.did_you_mean(str(spec[function]), known) or f"; the scores are {', '.join(known)}"
                              if known else "; the pack has no scores"))
                return None
            return FeatureSpec(arg=tuple(c.field for c in score.criteria), **common)
        arg = spec[function]
        if arg not in symbols:
            self.error(spec.value_loc(function), f"{where}{function}: unknown name '{arg}'{ex.did_you_mean(arg, symbols)}")
            return None
        arg_type = symbols[arg].type
        if function in ("days_since", "days_until"):
            if arg_type != ex.DATE:
                self.error(spec.value_loc(function), f"{where}{function}: '{arg}' is a {arg_type}, not a date")
                return None
            return FeatureSpec(arg=arg, **common)
        if arg_type != ex.NUMBER:
            self.error(spec.value_loc(function), f"{where}{function}: '{arg}' is a {arg_type}, not a number")
            return None
        if function == "band":
            bands = self.load_bands(spec, where, symbols)
            if bands is None:
                return None
            return FeatureSpec(arg=arg, type=ex.CATEGORY, bands=bands, **common)
        order = spec.get("order", "desc")
        if order not in ("asc", "desc"):
            self.error(spec.value_loc("order"), f"{where}order: must be 'asc' or 'desc'")
            return None
        ties = spec.get("ties", "shared")
        if "ties" in spec and function != "rank":
            self.error(spec.key_loc("ties"), f"{where}ties: only 'rank' takes it")
            return None
        if ties not in ("shared", "ordered"):
            self.error(spec.value_loc("ties"), f"{where}ties: must be 'shared' (equal values share the lower rank) "
                       f"or 'ordered' (one rank each, ties in the Pareto order){ex.did_you_mean(str(ties), ('shared', 'ordered'))}")
            return None
        return FeatureSpec(arg=arg, order=order, ties=ties, **common)

    def load_bands(self, spec: YMap, where: str, symbols: dict) -> tuple | None:
        raw = spec.get("bands")
        if not isinstance(raw, YList) or len(raw) < 2:
            self.error(spec.value_loc("bands") if "bands" in spec else spec.loc,
                       f"{where}bands: list two or more bands, as in [{{below: 0.15, label: low}}, {{label: high}}]")
            return None
        bands: list[Band] = []
        previous: float | None = None
        for i, item in enumerate(raw):
            item_loc = raw.item_locs[i]
            if not isinstance(item, YMap) or not isinstance(item.get("label"), str):
                self.error(item_loc, f"{where}bands[{i + 1}]: needs a 'label' (and 'below' except the last)")
                return None
            self.unknown_keys(item, ("below", "label", "text"), f"{where}bands[{i + 1}]: ")
            last = i == len(raw) - 1
            if last:
                if "below" in item:
                    self.error(item.key_loc("below"), f"{where}bands[{i + 1}]: the last band has no 'below' (it takes everything above)")
                    return None
                bands.append(Band(item["label"], None, self.text(item.get("text"), item.value_loc("text"), f"{where}text")))
                continue
            below = item.get("below")
            if isinstance(below, str):
                try:
                    node, vtype = ex.Resolver(symbols, self.params_values).value(ex.parse(below))
                except ex.ExprError as exc:
                    self.error(item.text_loc("below", exc.offset), f"{where}bands[{i + 1}].below: {exc.message}")
                    return None
                if not isinstance(node, ex.Param) or vtype != ex.NUMBER:
                    self.error(item.value_loc("below"), f"{where}bands[{i + 1}].below: must be a number or params.NAME")
                    return None
            elif isinstance(below, (int, float)) and not isinstance(below, bool):
                node = ex.Const(ex.rnd(below), ex.NUMBER)
            else:
                self.error(item.value_loc("below") if "below" in item else item.loc,
                           f"{where}bands[{i + 1}]: needs 'below: NUMBER' (every band but the last)")
                return None
            if previous is not None and node.value <= previous:
                self.error(item.value_loc("below"), f"{where}bands[{i + 1}].below: {ex.format_number(node.value)} must be above the band before ({ex.format_number(previous)})")
                return None
            previous = node.value
            bands.append(Band(item["label"], node, self.text(item.get("text"), item.value_loc("text"), f"{where}text")))
        labels = [b.label for b in bands]
        if len(set(labels)) != len(labels):
            self.error(raw.loc, f"{where}bands: labels must be different")
            return None
        return tuple(bands)

    def build_score(self, name: str, spec: YMap, loc: Location, info: dict, symbols: dict) -> ScoreSpec | None:
        where = f"score '{name}': "
        normalise = spec.get("normalise", spec.get("normalize", "percentile"))
        if normalise not in ("percentile", "minmax"):
            self.error(spec.value_loc("normalise"), f"{where}normalise: must be 'percentile' or 'minmax'{ex.did_you_mean(str(normalise), ('percentile', 'minmax'))}")
            return None
        criteria = []
        ok = True
        raw = spec["criteria"]
        for i, item in enumerate(raw):
            item_loc = raw.item_locs[i]
            cwhere = f"{where}criteria[{i + 1}]: "
            if not isinstance(item, YMap):
                self.error(item_loc, f"{cwhere}must be a mapping {{field: ..., weight: ...}}")
                ok = False
                continue
            self.unknown_keys(item, ("field", "weight", "better"), cwhere)
            fname = item.get("field")
            if fname not in symbols:
                self.error(item.value_loc("field") if "field" in item else item.loc,
                           f"{cwhere}field: unknown name '{fname}'{ex.did_you_mean(str(fname), symbols)}")
                ok = False
                continue
            if symbols[fname].type != ex.NUMBER:
                self.error(item.value_loc("field"), f"{cwhere}'{fname}' is a {symbols[fname].type}, not a number")
                ok = False
                continue
            weight = item.get("weight")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
                self.error(item.value_loc("weight") if "weight" in item else item.loc, f"{cwhere}weight: must be a number above 0")
                ok = False
                continue
            better = item.get("better", "higher")
            if better not in ("higher", "lower"):
                self.error(item.value_loc("better"), f"{cwhere}better: must be 'higher' or 'lower'")
                ok = False
                continue
            criteria.append(Criterion(fname, float(weight), better))
        min_criteria = None
        if "min_criteria" in spec and ok:
            min_criteria = self._min_criteria(spec, where, len(criteria), symbols)
            ok = min_criteria is not None
        if not ok:
            return None
        return ScoreSpec(
            min_criteria=min_criteria,
            name=name, criteria=tuple(criteria), normalise=normalise, loc=loc,
            title=self.text(spec.get("title"), spec.value_loc("title"), f"{where}title"),
            description=self.text(spec.get("description"), spec.value_loc("description"), f"{where}description"),
            reads=frozenset(c.field for c in criteria),
        )

    def _min_criteria(self, spec: YMap, where: str, count: int, symbols: dict) -> ex.Node | None:
        """`min_criteria:` a whole number from 1 to the number of criteria, or `params.NAME` holding one."""
        raw, loc = spec["min_criteria"], spec.value_loc("min_criteria")
        wrong = f"{where}min_criteria: must be a whole number from 1 to {count} (the score's criteria), or params.NAME"
        if isinstance(raw, int) and not isinstance(raw, bool):
            node: ex.Node | None = ex.Const(float(raw), ex.NUMBER)
        elif isinstance(raw, str) and raw.strip().startswith("params."):
            try:
                parsed = ex.parse(raw)
            except ex.ExprError as exc:
                self.error(loc, f"{where}min_criteria: {exc.message}")
                return None
            node, _ = self.resolve(parsed, spec, "min_criteria", where, symbols, condition=False)
            if node is None:
                return None
            if not isinstance(node, ex.Param):
                self.error(loc, wrong)
                return None
        else:
            self.error(loc, wrong)
            return None
        value = ex.eval_value(node, {})
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value != int(value) \
                or not 1 <= value <= count:
            self.error(loc, f"{wrong}; it is {raw}" + (f" = {value}" if isinstance(raw, str) else ""))
            return None
        return node
