"""The `pack`, `fields`, `params` and `labels` sections of a rule pack."""

from __future__ import annotations


from kamrules.errors import Location
from kamrules.language import expr as ex
from kamrules.pack.checker import Checker
from kamrules.pack.params import param_value
from kamrules.pack.fields import FIELD_TYPES, FieldSpec, normalise_header
from kamrules.pack.model import (
    NAME_RE,
    PARAM_ROLES,
    ROLES,
    ParamSpec,
    Text,
)
from kamrules.pack.yamlsrc import YMap


class FieldSections(Checker):
    """Loads `pack` (meta, roles), `fields`, `params` and `labels`."""

    def load_meta(self) -> dict:
        meta: dict = {}
        for mapping, _ in self.sections["pack"]:
            self.unknown_keys(mapping, ("name", "title", "version", "description", "roles", "attributes"),
                              "pack: ")
            for key in ("name", "version"):
                if key in mapping:
                    meta[key] = str(mapping[key])
            if "roles" in mapping:
                meta["roles"] = self.load_roles(mapping["roles"], mapping.value_loc("roles"))
            if "attributes" in mapping:
                self.gather_attributes(mapping["attributes"], mapping.value_loc("attributes"),
                                       meta.setdefault("attributes", []))
            if "title" in mapping:
                meta["title"] = self.text(mapping["title"], mapping.value_loc("title"), "pack: title")
        return meta

    def load_roles(self, roles, loc: Location) -> dict:
        if not isinstance(roles, YMap):
            self.error(loc, "pack: roles: must be a mapping of role to name, e.g. 'tier: account_tier'")
            return {}
        checked = {}
        for role, name in roles.items():
            known = {**ROLES, **PARAM_ROLES}
            if role not in known:
                self.warn(roles.key_loc(role), f"pack: roles: unknown role '{role}'" + ex.did_you_mean(str(role), known))
                continue
            if not isinstance(name, str) or not NAME_RE.match(name):
                self.error(roles.value_loc(role), f"pack: roles: {role}: must be a name such as '{known[role]}'")
                continue
            checked[role] = (name, roles.value_loc(role))
        return checked

    def check_roles(self, roles: dict) -> dict:
        """Every role names something the pack defines (checked once all names are known)."""
        known = self.names
        for role, (name, loc) in roles.items():
            if role in PARAM_ROLES:
                if name not in self.params:
                    self.error(loc, f"pack: roles: {role}: '{name}' is not a param of this pack"
                               + ex.did_you_mean(name, list(self.params)))
                continue
            if name not in known and not any(name in d.outputs for d in self.decisions):
                self.error(loc, f"pack: roles: {role}: '{name}' is not a field, feature, score or output of this pack"
                           + ex.did_you_mean(name, list(known)))
        return {role: name for role, (name, _) in roles.items()}

    def load_fields(self) -> dict:
        fields: dict[str, FieldSpec] = {}
        for section, _ in self.sections["fields"]:
            for name, spec in section.items():
                loc = section.key_loc(name)
                where = f"field '{name}': "
                if not self.check_name(name, loc, "field") or not self.claim(name, "field", loc):
                    continue
                if isinstance(spec, str):  # shorthand: `sales: number`
                    spec_map = YMap({"type": spec})
                    spec_map.loc, spec_map.key_locs = section.value_loc(name), {}
                    spec_map.value_locs = {"type": section.value_loc(name)}
                    spec_map.value_styles = {}
                    spec = spec_map
                if not isinstance(spec, YMap):
                    self.error(section.value_loc(name), f"{where}must be a mapping with at least a 'type'")
                    continue
                self.unknown_keys(spec, ("type", "required", "label", "description", "aliases", "values", "range"),
                                  where)
                ftype = spec.get("type")
                if ftype not in FIELD_TYPES:
                    self.error(
                        spec.value_loc("type") if "type" in spec else spec.loc,
                        f"{where}type '{ftype}' is not one of {', '.join(FIELD_TYPES)}"
                        + (ex.did_you_mean(str(ftype), FIELD_TYPES) if ftype else ""),
                    )
                    continue
                required = spec.get("required", False)
                if not isinstance(required, bool):
                    self.error(spec.value_loc("required"), f"{where}required: must be true or false")
                    required = False
                aliases = spec.get("aliases", [])
                if isinstance(aliases, str):
                    aliases = [aliases]
                if not isinstance(aliases, list) or not all(isinstance(a, (str, int)) for a in aliases):
                    self.error(spec.value_loc("aliases"), f"{where}aliases: must be a list of column headers")
                    aliases = []
                values, value_aliases = self.category_values(spec, where, ftype)
                fields[name] = FieldSpec(
                    name=name,
                    type=ftype,
                    required=required,
                    label=self.text(spec.get("label"), spec.value_loc("label"), f"{where}label"),
                    description=self.text(spec.get("description"), spec.value_loc("description"), f"{where}description"),
                    aliases=tuple(str(a) for a in aliases),
                    values=values,
                    value_aliases=value_aliases,
                    loc=loc,
                    range=self.field_range(spec, where, ftype),
                )
        return fields

    def field_range(self, spec: YMap, where: str, ftype: str) -> tuple:
        """`range: [0, 10]` (or `[0, null]`): the values a number field may take; others are bad values."""
        if "range" in spec and ftype not in ("number", "integer"):
            self.error(spec.key_loc("range"), f"{where}range: only number and integer fields have a range")
            return ()
        return self.number_range(spec, where)

    def number_range(self, spec: YMap, where: str) -> tuple:
        """`range: [low, high]` of a number field or param (null for no bound), or () when absent."""
        if "range" not in spec:
            return ()
        raw, loc = spec["range"], spec.value_loc("range")
        if not isinstance(raw, list) or len(raw) != 2 or not all(
                v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in raw):
            self.error(loc, f"{where}range: write [lowest, highest], e.g. range: [0, 10] (null for no bound)")
            return ()
        low, high = raw
        if low is not None and high is not None and low > high:
            self.error(loc, f"{where}range: the lowest value {low} is above the highest {high}")
            return ()
        return (low, high)

    def category_values(self, spec: YMap, where: str, ftype: str) -> tuple[tuple, dict]:
        raw = spec.get("values")
        if ftype != "category":
            if raw is not None:
                self.error(spec.key_loc("values"), f"{where}values: only category fields list values")
            return (), {}
        if raw is None:
            self.error(spec.loc, f"{where}a category field needs 'values' (the allowed values)")
            return (), {}
        values: list[str] = []
        aliases: dict[str, str] = {}
        if isinstance(raw, list):
            items = [(v, []) for v in raw]
        elif isinstance(raw, YMap):
            items = list(raw.items())
        else:
            self.error(spec.value_loc("values"), f"{where}values: must be a list or a mapping value → aliases")
            return (), {}
        for value, value_aliases in items:
            if not isinstance(value, str):
                self.error(spec.value_loc("values"), f"{where}values: '{value}' must be text")
                continue
            values.append(value)
            if value_aliases is None:
                value_aliases = []
            if isinstance(value_aliases, str):
                value_aliases = [value_aliases]
            for alias in [value, *value_aliases]:
                aliases[normalise_header(str(alias))] = value
        return tuple(values), aliases

    def load_params(self) -> dict:
        params: dict[str, ParamSpec] = {}
        for section, _ in self.sections["params"]:
            for name, spec in section.items():
                loc = section.key_loc(name)
                where = f"param '{name}': "
                if not isinstance(name, str) or not NAME_RE.match(name):
                    self.error(loc, f"param name '{name}' is not valid: use lower-case letters, digits and '_'")
                    continue
                if name in params:
                    self.error(loc, f"param '{name}' is already defined at {params[name].loc}")
                    continue
                label, description, source, bounds = {}, {}, {}, ()
                value_loc = section.value_loc(name)
                if isinstance(spec, YMap):
                    self.unknown_keys(spec, ("value", "label", "description", "source", "range"), where)
                    if "value" not in spec:
                        self.error(spec.loc, f"{where}a param given as a mapping needs a 'value'")
                        continue
                    label = self.text(spec.get("label"), spec.value_loc("label"), f"{where}label")
                    description = self.text(spec.get("description"), spec.value_loc("description"), f"{where}description")
                    source = self.source(spec, where)
                    bounds = self.number_range(spec, where)
                    value_loc = spec.value_loc("value")
                    spec = spec["value"]
                value, problem = param_value(spec, bounds)  # the check --set applies too (pack/params.py)
                if problem is not None:
                    self.error(value_loc, f"{where}{problem}")
                if value is not None:
                    params[name] = ParamSpec(name, value, label, description, source, loc, bounds)
        return params

    def load_labels(self) -> dict:
        labels: dict[str, Text] = {}
        for section, _ in self.sections["labels"]:
            for value, text in section.items():
                labels[str(value)] = self.text(text, section.value_loc(value), f"label '{value}'")
        return labels
