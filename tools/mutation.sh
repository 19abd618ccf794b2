#!/usr/bin/env bash
# Mutation testing (mutmut 3) over the parts where a wrong operator is a wrong decision or a hole:
# the condition language, the hit policy, number parsing and the CSV-injection guard.
# It works on a copy under /tmp, so nothing is written into the checkout. Not run in CI (minutes).
#
#   tools/mutation.sh                 # copy, mutate, run, print the score and the survivors
#   tools/mutation.sh 'kamrules.pack.hitpolicy.*'    # only these mutants (fnmatch on mutant names)
#   PYTHON=/path/python tools/mutation.sh
#   MUTATION_DIR=/tmp/elsewhere MUTATION_JOBS=2 tools/mutation.sh
#
# Needs mutmut >= 3 next to the Python that runs the tests (pip install mutmut). Results are written
# up in docs/mutation.md.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
BIN="$(dirname "$(command -v "$PYTHON")")"
WORK="${MUTATION_DIR:-/tmp/kamrules-mutation}"
JOBS="${MUTATION_JOBS:-2}"

rm -rf "$WORK"
mkdir -p "$WORK"
# The files git knows, as they are in the working tree (uncommitted edits included).
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - 2>/dev/null) \
    | (cd "$WORK" && tar -xf -)

# mutmut reads [tool.mutmut] from pyproject.toml first, else setup.cfg: the copy gets a setup.cfg,
# so the project's pyproject.toml stays as it is. Tests that start a Python subprocess are left out:
# the child imports the copy's mutated modules without mutmut's set-up around it.
cat > "$WORK/setup.cfg" <<'CFG'
[mutmut]
source_paths = kamrules/
also_copy =
    rules/
    playbooks/
    examples/
only_mutate =
    kamrules/language/*
    kamrules/pack/hitpolicy.py
    kamrules/data/numbers.py
    kamrules/data/written.py
pytest_add_cli_args =
    -p
    no:cacheprovider
    -q
    -x
    -k
    not (hand_built or closed_pipe or pool_workers_die or under_the_c_locale or killed_run_leaves)
pytest_add_cli_args_test_selection =
    tests/test_expr.py
    tests/test_pack.py
    tests/test_engine.py
    tests/test_reader.py
    tests/test_writer.py
CFG

cd "$WORK"
export PATH="$BIN:$PATH" HYPOTHESIS_STORAGE_DIRECTORY="$WORK/.hypothesis"
start=$(date +%s)
# Smallest and sharpest first, so a run stopped early has checked the guard and the hit policy. Of
# data/written.py only the formula guard (neutralise, guard_formulas): its other functions format cells.
if [ "$#" -eq 0 ]; then
    set -- 'kamrules.pack.hitpolicy.*' 'kamrules.data.written.x_neutralise*' \
        'kamrules.data.written.x_guard_formulas*' 'kamrules.data.numbers.*' \
        'kamrules.language.cells.*' 'kamrules.language.rowsem.*' 'kamrules.language.vecsem.*' \
        'kamrules.language.types.*' 'kamrules.language.nodes.*' 'kamrules.language.guards.*' \
        'kamrules.language.text.*' 'kamrules.language.parser.*'
fi
for target in "$@"; do
    echo "== $target"
    "$BIN/mutmut" run --max-children "$JOBS" "$target" || true
done
echo "mutmut run took $(( $(date +%s) - start )) s"
"$BIN/mutmut" results --all true > "$WORK/results.txt" 2>&1 || "$BIN/mutmut" results > "$WORK/results.txt" 2>&1 || true
"$PYTHON" - "$WORK/results.txt" <<'PY'
import collections, re, sys
by_module = collections.defaultdict(collections.Counter)
for line in open(sys.argv[1], encoding="utf-8"):
    if ":" in line and "__mutmut_" in line:
        name, status = line.strip().rsplit(":", 1)
        by_module[re.split(r"\.x[_ǁ]", name)[0]][status.strip()] += 1
total = collections.Counter()
for module, counts in sorted(by_module.items()):
    total.update(counts)
    checked = sum(counts.values()) - counts["not checked"]
    killed = counts["killed"] + counts["timeout"]
    print(f"{module}: {killed}/{checked} killed" + (f" ({counts['not checked']} not checked)" if counts["not checked"] else "")
          + f"  {dict(sorted(counts.items()))}")
checked = sum(total.values()) - total["not checked"]
if checked:
    killed = total["killed"] + total["timeout"]
    print(f"score: {killed}/{checked} = {killed / checked:.1%} of the checked mutants killed (timeouts count as killed)")
PY
echo "survivors: (cd $WORK && $BIN/mutmut results; $BIN/mutmut show NAME)"
