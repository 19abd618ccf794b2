"""`pack: attributes:` — the natural attributes of an account (industry, size, type, region, contract
length, …) that `kamrules profile` compares between key accounts and the whole base (docs/profile.md).

    pack:
      attributes:
        industry:                              # a text, category or true/false field: used as it is
        contract_months: {bands: [12, 24, 36]}  # a number: banded at these cut points (ascending)
"""

from __future__ import annotations

from typing import Any

from kamrules.errors import Location
from kamrules.language import expr as ex
from kamrules.pack.checker import Checker
from kamrules.pack.model import AttributeSpec
from kamrules.pack.yamlsrc import YList, YMap

NUMERIC = ("number", "integer")
AS_IS = ("string", "category", "boolean")


class AttributeSections(Checker):
    """Checks the attribute declarations once every field and feature is known."""

    def gather_attributes(self, raw, loc: Location, found: list) -> None:
        """Collect `pack: attributes:` (a mapping, or a list of names) as (name, spec, name_loc, spec_loc)."""
        if isinstance(raw, YMap):
            found += [(name, spec, raw.key_loc(name), raw.value_loc(name)) for name, spec in raw.items()]
        elif isinstance(raw, list):
            locs = getattr(raw, "item_locs", [loc] * len(raw))
            found += [(name, None, item_loc, item_loc) for name, item_loc in zip(raw, locs)]
        else:
            self.error(loc, "pack: attributes: must be a mapping of field names, e.g. 'industry:' or "
                            "'contract_months: {bands: [12, 24, 36]}'")

    def check_attributes(self, found: list, derived: list) -> dict:
        types = {name: spec.type for name, spec in self.fields.items()}
        types.update({d.name: d.type for d in derived if hasattr(d, "bands")})
        attributes: dict[str, AttributeSpec] = {}
        for name, spec, name_loc, spec_loc in found:
            where = f"pack: attributes: {name}: "
            if not isinstance(name, str) or name not in types:
                self.error(name_loc, f"pack: attributes: '{name}' is not a field or feature of this pack"
                                     + ex.did_you_mean(str(name), list(types)))
                continue
            if name in attributes:
                self.error(name_loc, f"{where}declared twice (first at {attributes[name].loc})")
                continue
            bands = self.attribute_bands(name, spec, spec_loc, types[name], where)
            if bands is not None:
                attributes[name] = AttributeSpec(name, bands, name_loc)
        return attributes

    def attribute_bands(self, name: str, spec: Any, loc: Location, ftype: str, where: str) -> tuple | None:
        if spec is not None and not isinstance(spec, YMap):
            self.error(loc, f"{where}must be empty or a mapping such as '{{bands: [12, 24, 36]}}'")
            return None
        if isinstance(spec, YMap):
            self.unknown_keys(spec, ("bands",), where)
        raw = spec.get("bands") if isinstance(spec, YMap) else None
        if ftype not in NUMERIC:
            if raw is not None:
                self.error(spec.key_loc("bands"), f"{where}bands: only number fields are banded ('{name}' is {ftype})")
                return None
            if ftype not in AS_IS:
                self.error(loc, f"{where}a {ftype} field is not an attribute: declare a banded feature "
                                "(e.g. days_since) and name that instead")
                return None
            return ()
        if raw is None:
            self.error(loc, f"{where}a number needs bands, e.g. '{name}: {{bands: [12, 24, 36]}}' "
                            "(the cut points, ascending)")
            return None
        bands_loc = spec.value_loc("bands")
        numbers = raw if isinstance(raw, (list, YList)) else None
        if not numbers or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v == v
                                  and abs(v) != float("inf") for v in numbers):
            self.error(bands_loc, f"{where}bands: must be a list of numbers (the cut points), e.g. [12, 24, 36]")
            return None
        if any(b <= a for a, b in zip(numbers, numbers[1:])):
            self.error(bands_loc, f"{where}bands: the cut points must rise: {list(numbers)}")
            return None
        return tuple(float(v) for v in numbers)
