"""Decide each distinct situation once: the engine is asked per situation, the answer broadcast.

durable_rules' answer for a rule depends only on where each value the rule reads falls relative to
the constants the decision compares that column with: missing, below the lowest constant, equal to a
constant, between two constants, above the highest. Every account is reduced to those *classes*;
accounts whose classes agree on a rule's columns are one situation for that rule. Each rule is compiled
into a ruleset of its own, durable_rules is asked once per situation with a real account of that
situation (the first one), and its answer is broadcast to every account of the situation. The hit
policy is then applied once per distinct combination (`masks.winners`), so the masks are
exactly those the per-account engine returns (the differential test in tests/test_situations.py checks it).

How it stays fast for a million accounts (docs/performance.md):

- Each column is coded once for every decision that reads it (`coding.prepare`: a small integer per
  account and what it stands for); a decision classes it by a table over those few codes.
- Rule groups (the rules that read the same columns) are gathered into *clusters* whose classes combine
  into at most `Tuning.cluster_width` keys. Each cluster costs one key per account (mixed radix, by arithmetic,
  in the narrowest unsigned type) and one search for its keys' first accounts; its groups' situations
  are found among the cluster's few, the engine is asked once per group situation, and each account
  gets its cluster's answer by one lookup.
- A decision's masks come from the few distinct combinations of its clusters' answers, where the hit
  policy is applied once each.
- A decision's outputs stay coded (the value of each distinct match mask, and each account's mask code)
  for the later decisions that read them; the per-account column is built only where an expression needs it.

Two number (or date, boolean) columns compared with each other (`sales > sales_prev`) add one more
class per account to the rules reading both: the sign of their difference (less, equal, greater, either
missing), on the numbers the engine receives; each column is still classed against its own constants.
Any other column compared with a column (text with text) is not classed: its exact value is the class.
Values the engine refuses (infinite numbers) are classes of their own, so their account is the one
sent and the engine's error is raised as before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamrules.engine import masks as mask_codec
from kamrules.engine.coding import Coded, Workspace, broadcast, engine_numbers, first_accounts, numbered, prepare, unsigned
from kamrules.engine.durable import CompiledDecision, Rulesets, message_fragments
from kamrules.language import expr as ex
from kamrules.pack import Decision

_KEY_LIMIT = 2 ** 62  # a combined key stays below this, or it is renumbered first


def combine(parts: list[tuple[np.ndarray, np.ndarray | None, int]], count: int) -> tuple[np.ndarray, int]:
    """(one key per account, the number of possible keys) from each part's (codes 0 … size, a table
    giving code k + 1 its class -1 … n-1 (code 0, missing: -1), or None when the codes are the classes;
    n): accounts get the same key exactly when they have the same classes. Classes are combined by
    arithmetic (mixed radix), looked up only where codes and classes differ; the key is built in the
    narrowest unsigned type that holds it, and renumbered when it would outgrow 64 bits."""
    key = np.zeros(count, dtype=np.uint8)
    width = 1
    spare: dict = {}
    for codes, table, number in sorted(parts, key=lambda part: part[2]):
        looked_up = table is not None and not _is_identity(table)
        radix = number + 1
        if width > 1 and width * radix >= _KEY_LIMIT:  # renumbered: the keys present, 0 … n-1
            key, width = numbered(key)
        width *= radix
        kind = unsigned(width - 1)
        if key.dtype != kind:
            key = key.astype(kind)
        if kind not in spare:
            spare[kind] = np.empty(count, dtype=kind)
        below = width // radix
        if looked_up and table is not None:
            step = ((table + 1) * below).astype(kind)  # (class + 1) × the radix below it
            key += np.take(step, codes, out=spare[kind], mode="clip")  # (codes are in range: no checks)
        elif below == 1:
            np.add(key, codes, out=key, casting="unsafe")  # (codes are never negative)
        else:
            key += np.multiply(codes, below, out=spare[kind], dtype=kind, casting="unsafe")
    return key, width


def _is_identity(table: np.ndarray) -> bool:
    """Whether a class table gives code k + 1 the class k (its codes are its classes)."""
    return bool((table[1:] == np.arange(len(table) - 1)).all())


def situations(key: np.ndarray, width: int, space: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """(each account's situation number, the first account of each situation), situations numbered
    in order of their first account. Few possible keys: one scatter over the accounts instead of
    hashing them; otherwise hashing, which numbers in order of appearance."""
    count = len(key)
    if count == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if width > 2 * count + space.tuning.slack:
        key, width = numbered(key)
    slots, firsts = first_accounts(key, width, space)
    return _by_key(key, width, slots, np.arange(len(slots))), firsts


def _by_key(key: np.ndarray, width: int, slots: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each account's value of its key, from the keys present (`slots`) and their `values` (small
    non-negative integers): one table of `width` entries, one lookup per account."""
    table = np.zeros(width, dtype=unsigned(int(values.max(initial=0))))
    table[slots] = values
    return np.take(table, key, mode="clip")  # (keys are below width: no checks)


def _pair_class(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Where `left` stands against `right`, per account: less, equal, greater, either missing (or no order)."""
    codes = np.full(len(left), 4, dtype=np.uint8)  # (as codes 1 … 4: never missing)
    with np.errstate(invalid="ignore"):
        codes[left < right] = 1
        codes[left == right] = 2
        codes[left > right] = 3
    return codes


def _exact_and_signed(compiled: CompiledDecision, types: dict) -> tuple[set, list]:
    """(columns classed by exact value, number pairs classed by the sign of their difference)."""
    numeric = (ex.NUMBER, ex.DATE, ex.BOOLEAN)
    pairs = sorted(getattr(compiled, "pairs", set()))
    signed = [p for p in pairs if all(types.get(c, ex.NUMBER) in numeric for c in p)]
    exact = {c for p in pairs if p not in signed for c in p}
    if not pairs:
        exact = set(compiled.exact)
    return exact, signed


class Columns:
    """The columns decisions read, each prepared once (`Coded`) for every decision that reads it and
    let go after the last of them; a decision's outputs kept as the value of each distinct match mask
    and each account's mask code, made into a column only where an expression or a pair needs it."""

    def __init__(self, frame: pd.DataFrame, types: dict, compiled: list[CompiledDecision], space: Workspace):
        self.frame, self.types, self.compiled, self.space = frame, types, compiled, space
        self.now = 0  # the decision being decided
        self._hidden: dict = {}  # expression -> its column, for the next decision that computes the same
        self._coded: dict = {}
        self._outputs: dict = {}  # name -> (values per mask code, mask code per account, kind)

    def set_output(self, name: str, values: list, codes: np.ndarray, kind: str) -> None:
        self._coded.pop(name, None)
        self._outputs[name] = (values, codes, kind)
        for node in [n for n in self._hidden if name in ex.names_in(n)]:
            del self._hidden[node]

    def hidden(self, nodes: dict) -> dict:
        """A decision's hidden columns (arithmetic by pandas, `ex.eval_vector`), each computed once for
        the decisions that compute the same expression over the same columns."""
        reading = _Reading(self, {})
        for column, node in nodes.items():
            if node not in self._hidden:
                self._hidden[node] = ex.eval_vector(node, reading)
            reading.hidden[column] = self._hidden[node]
        return reading.hidden

    def constants(self, name: str) -> set | None:
        """Every constant the decisions from now on compare `name` with, until one sets it anew —
        or None when one of them needs its exact values."""
        union: set = set()
        for compiled in self.compiled[self.now:]:
            if name in compiled.columns and name not in compiled.hidden:
                found = compiled.constants.get(name, set())
                if name in _exact_and_signed(compiled, self.types)[0] or not all(isinstance(c, float) for c in found):
                    return None
                union |= found
            if compiled.decision.reads_back(name):
                break
        return union

    def coded(self, name: str) -> Coded:
        if name not in self._coded:
            vtype = self.types.get(name, ex.NUMBER)
            if name in self._outputs:  # the few values prepared, then taken per account
                values, codes, kind = self._outputs[name]
                few = prepare(broadcast(values, np.arange(len(values)), kind), vtype, self.constants(name))
                self._coded[name] = Coded(few.codes[codes], few.size, few.values, few.cuts)
            else:
                self._coded[name] = prepare(self.frame[name], vtype, self.constants(name), self.space)
        return self._coded[name]

    def column(self, name: str, positions: np.ndarray | None = None) -> pd.Series:
        """The column (at `positions`) as the per-account engine path holds it."""
        if name in self._outputs:
            values, codes, kind = self._outputs[name]
            at = codes if positions is None else codes[positions]
            return broadcast(values, at, kind, None if positions is None else pd.RangeIndex(len(positions)))
        series = self.frame[name]
        return series if positions is None else series.take(positions)

    def is_output(self, name: str) -> bool:
        return name in self._outputs

    def forget(self, names) -> None:
        for name in names:
            self._coded.pop(name, None)


class _Reading:
    """What an expression reads: the facts, earlier decisions' outputs (made whole for it), hidden columns."""

    def __init__(self, columns: Columns, hidden: dict):
        self.columns, self.hidden, self.index = columns, hidden, columns.frame.index

    def __getitem__(self, name: str) -> pd.Series:
        return self.hidden[name] if name in self.hidden else self.columns.column(name)


def decide_decision(decision: Decision, compiled: CompiledDecision, rulesets: Rulesets, pack_hash: str,
                    hidden: dict, types: dict, columns: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(each account's match mask as the per-account engine leaves it, each account's mask code, the
    distinct masks, engine calls made). `hidden`: the decision's hidden columns; `columns` the rest.

    Rule groups (the rules that read the same columns) are gathered into clusters (`_clusters`). Per
    cluster: each account's key of the cluster's classes and the first account of each key present;
    each of its groups' situations found among those few and asked once; each account's *answer* (which
    of the cluster's rules match) taken by key. The decision's answer is the combination of its
    clusters' answers, whose few distinct combinations get their match masks and hit policy once."""
    count = len(columns.frame)
    if count == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.uint64), 0
    exact, signed = _exact_and_signed(compiled, types)
    parts = {**_column_parts(compiled, hidden, types, columns, exact), **_pair_parts(signed, hidden, types, columns)}
    groups, reads = _rule_groups(decision, compiled, signed)
    found, clustered = _group_situations(groups, reads, parts, columns)
    matched, asked = _ask(decision, compiled, rulesets, pack_hash, found, len(clustered), hidden, types, columns)
    answered = _answers(clustered, matched, columns)
    del clustered
    return _decision_masks(decision, answered, columns) + (asked,)


def _column_parts(compiled: CompiledDecision, hidden: dict, types: dict, columns: Columns, exact: set) -> dict:
    """Per column the decision reads: (its classes per account as codes 0 = missing, None, number of
    classes), each column coded once (`Columns.coded`) and classed by a table of a few entries."""
    parts: dict = {}
    for column in compiled.columns:
        if column in compiled.hidden:  # this decision's own (recomputed per decision, same names)
            constants = compiled.constants.get(column, set())
            exact_here = column in exact or not all(isinstance(c, float) for c in constants)
            coded = prepare(hidden[column], types.get(column, ex.NUMBER), None if exact_here else constants, columns.space)
        else:
            coded = columns.coded(column)
        table, number = coded.table(compiled.constants.get(column, set()), column in exact)
        if _is_identity(table):  # its codes are its classes
            parts[column] = (coded.codes, None, number)
        else:  # looked up once for all the groups that read it
            parts[column] = (np.take((table + 1).astype(unsigned(number)), coded.codes, mode="clip"), None, number)
    return parts


def _pair_parts(signed: list, hidden: dict, types: dict, columns: Columns) -> dict:
    """Per pair of number columns compared with each other: the sign of their difference per account."""
    parts: dict = {}
    for pair in signed:
        left, right = (engine_numbers(hidden[c] if c in hidden else columns.column(c), types.get(c, ex.NUMBER), out)
                       for c, out in zip(pair, (columns.space.scratch, columns.space.other)))
        assert left is not None and right is not None  # number (or date) columns: never texts
        parts[pair] = (_pair_class(left, right), None, 4)
    return parts


def _rule_groups(decision: Decision, compiled: CompiledDecision, signed: list) -> tuple[dict, dict]:
    """(the rules that read the same columns, by those columns; what each group's situations are made
    of: its columns and the pairs among them)."""
    groups: dict[tuple, list[int]] = {}
    for index in range(len(decision.rules)):
        groups.setdefault(tuple(compiled.rule_reads[index]), []).append(index)
    reads = {names: list(names) + [p for p in signed if set(p) <= set(names)] for names in groups}
    return groups, reads


def _group_situations(groups: dict, reads: dict, parts: dict, columns: Columns) -> tuple[list, list]:
    """(per rule group: its columns, rules, cluster, each cluster situation's group situation, the
    accounts asked; per cluster: key per account, number of keys, keys present, number of situations)."""
    count, space = len(columns.frame), columns.space
    found: list = []
    clustered: list = []
    radixes = {c: part[2] + 1 for c, part in parts.items()}
    for cluster in _clusters([reads[names] for names in groups], radixes, space.tuning.cluster_width):
        key, width = combine([parts[c] for c in cluster], count)
        if width > 2 * count + space.tuning.slack:  # too many possible keys for a table by key: the keys present
            key, width = numbered(key)
        np.copyto(space.index, key, casting="unsafe")
        slots, firsts = first_accounts(space.index, width, space)
        clustered.append((key, width, slots, len(firsts)))
        at_firsts = {c: parts[c][0][firsts] for c in cluster}  # the cluster's situations' classes
        for names, indexes in groups.items():
            if set(reads[names]) <= set(cluster) and not any(names == f[0] for f in found):
                combined = combine([(at_firsts[c], None, parts[c][2]) for c in reads[names]], len(firsts))
                in_group, group_first = situations(*combined, space)
                found.append((names, indexes, len(clustered) - 1, in_group, firsts[group_first]))
    return found, clustered


def _ask(decision: Decision, compiled: CompiledDecision, rulesets: Rulesets, pack_hash: str, found: list,
         clusters: int, hidden: dict, types: dict, columns: Columns) -> tuple[list, int]:
    """(per cluster, per situation of it: the bits of the rules that match; engine calls made). Each
    account asked is encoded once for all the groups that ask it."""
    asked_accounts = np.unique(np.concatenate([accounts for *_, accounts in found])) if found \
        else np.zeros(0, dtype=np.int64)
    rows = {c: (hidden[c].take(asked_accounts) if c in hidden else columns.column(c, asked_accounts)).reset_index(drop=True)
            for c in compiled.columns}
    fragments = dict(zip(compiled.columns, message_fragments(rows, compiled.columns, types)))
    asked = 0
    matched: list = [None] * clusters
    for names, indexes, cluster, in_group, accounts in found:
        at = np.searchsorted(asked_accounts, accounts).tolist()
        texts = [fragments[c] for c in names]
        bodies = [",".join(f for f in (text[i] for text in texts) if f is not None) for i in at]
        answers = np.zeros(len(bodies), dtype=np.uint64)  # per group situation: the bits of the group's rules
        for index in indexes:
            runner = rulesets.rule_runner(decision, pack_hash, index)
            hits, new = _run_rule(runner, bodies, rulesets.answers, (decision.id, index))
            answers[hits] |= np.uint64(1) << np.uint64(index)
            asked += new
        cluster_answers = answers[in_group]
        matched[cluster] = cluster_answers if matched[cluster] is None else matched[cluster] | cluster_answers
    return matched, asked


def _run_rule(runner, bodies: list[str], known: dict | None, rule: tuple) -> tuple[np.ndarray, int]:
    """(whether the rule matches each message, how many were asked of the engine); `known` (a chunked
    run's answers so far, engine/chunks.py) answers the messages it has seen and learns the others."""
    if known is None:
        return np.fromiter((bool(runner.run(body)) for body in bodies), dtype=bool, count=len(bodies)), len(bodies)
    hits = np.zeros(len(bodies), dtype=bool)
    new = 0
    for number, body in enumerate(bodies):
        key = (*rule, body)
        answer = known.get(key)
        if answer is None:
            answer = known[key] = bool(runner.run(body))
            new += 1
        hits[number] = answer
    return hits, new


def _answers(clustered: list, matched: list, columns: Columns) -> list:
    """Per cluster: (each account's answer code, the cluster's distinct answers)."""
    answered = []
    index = columns.space.index
    for (key, width, slots, situations_count), answers in zip(clustered, matched):
        answers = np.zeros(situations_count, dtype=np.uint64) if answers is None else answers
        answer_of, distinct = pd.factorize(answers)
        np.copyto(index, key, casting="unsafe")
        answered.append((_by_key(index, width, slots, answer_of), np.asarray(distinct, dtype=np.uint64)))
    return answered


def _decision_masks(decision: Decision, answered: list, columns: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The decision: the distinct combinations of its clusters' answers, each given its winners once
    (`masks.winners`); (each account's mask, its mask code, the distinct masks)."""
    combination, width, matched = _combinations(answered, len(columns.frame), columns.space)
    matched = mask_codec.winners(decision, matched)
    mask_of, masks = pd.factorize(matched)  # the few distinct masks
    masks = np.asarray(masks, dtype=np.uint64)
    codes = np.take(mask_of.astype(unsigned(len(masks))), combination, mode="clip")
    return np.take(masks, codes, mode="clip"), codes, masks


def _combinations(answered: list, count: int, space: Workspace) -> tuple[np.ndarray, int, np.ndarray]:
    """(each account's combination of its clusters' answers, number of combinations, the rules each
    combination matches). The combinations present are read off the key's digits, not found per account."""
    if len(answered) == 1:
        codes, distinct = answered[0]
        return codes, len(distinct), distinct
    parts: list[tuple[np.ndarray, np.ndarray | None, int]] = [(codes, None, len(distinct) - 1)
                                                                for codes, distinct in answered]
    radixes = [len(distinct) for _, distinct in answered]
    index = space.index
    if int(np.prod(radixes, dtype=object)) > 2 * count + space.tuning.slack:  # too many to list: found per account
        combination, firsts = situations(*combine(parts, count), space)
        matched = np.zeros(len(firsts), dtype=np.uint64)
        for codes, distinct in answered:
            matched |= distinct[codes[firsts]]
        return combination, len(firsts), matched
    key, width = combine(parts, count)
    np.copyto(index, key, casting="unsafe")
    present = np.flatnonzero(np.bincount(index, minlength=width))
    matched = np.zeros(len(present), dtype=np.uint64)
    below = 1
    for group in sorted(range(len(parts)), key=lambda g: parts[g][2]):  # combine's order of digits
        matched |= answered[group][1][(present // below) % radixes[group]]
        below *= radixes[group]
    return _by_key(index, width, present, np.arange(len(present))), len(present), matched


def _clusters(reads: list[list], radixes: dict, most: int) -> list[list]:
    """The rule groups' columns gathered into clusters whose combined classes stay few (at most `most`
    keys, `Tuning.cluster_width`): each cluster costs one key per account, however many groups it holds, and
    its groups' situations are found among its few. Greedy: the widest groups first, each into the
    cluster it widens least (a group inside a cluster already, however wide, joins it)."""
    def width(columns) -> int:
        return int(np.prod([radixes[c] for c in columns], dtype=object)) if columns else 1

    clusters: list[list] = []
    for columns in sorted(reads, key=lambda c: (-width(c), [str(name) for name in c])):  # (a pair is a tuple)
        best, best_width = None, None
        for cluster in clusters:
            joined = width(set(cluster) | set(columns))
            fits = joined <= most or set(columns) <= set(cluster)  # (inside a wide one: no wider)
            if fits and (best_width is None or joined < best_width):
                best, best_width = cluster, joined
        if best is None:
            clusters.append(sorted(set(columns), key=str))
        else:
            best[:] = sorted(set(best) | set(columns), key=str)
    return clusters


