"""Hardening (issue #15): nothing a user or a shared file can do loses data, leaks a file or crashes.

Each test reproduces one finding of the red-team pass; see docs/security.md for the threat model."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.errors import ConfigError, RuleError

from conftest import ROOT

runner = CliRunner()
DATA = ROOT / "tests" / "projects" / "basic" / "customers.csv"
RULES = ROOT / "tests" / "projects" / "basic" / "rules"


def _evaluate(*args: str):
    return runner.invoke(app, ["evaluate", str(DATA), "--rules", str(RULES), "--as-of", "2026-11-27",
                               "--jobs", "1", "-q", *args])


# ------------------------------------------------------------------ 1. inputs inside --out


@pytest.fixture
def previous_out(tmp_path) -> Path:
    assert _evaluate("--out", "out").exit_code == 0
    return tmp_path / "out"


@pytest.mark.parametrize("option", ["--rules", "--playbooks-dir", "--columns"])
def test_out_containing_any_input_is_refused_before_the_run(previous_out, option, monkeypatch):
    inside = previous_out / "mine"
    if option == "--rules":
        shutil.copytree(RULES, inside)
    elif option == "--playbooks-dir":
        inside.mkdir()
    else:
        inside = previous_out / "columns.yaml"
        inside.write_text("customer_id: customer_id\n", encoding="utf-8")
    import kamrules.run

    monkeypatch.setattr(kamrules.run, "load_pack", lambda *a, **k: pytest.fail("the run started"))
    args = ["--out", "out", option, str(inside)]
    if option == "--rules":
        result = runner.invoke(app, ["evaluate", str(DATA), "--as-of", "2026-11-27", "-q", *args])
    else:
        result = _evaluate(*args)
    assert result.exit_code == 1, result.output
    assert "the output folder contains the input" in result.output
    assert inside.exists()


def test_unwritable_out_is_refused_before_the_run(tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("x")
    import kamrules.run

    monkeypatch.setattr(kamrules.run, "load_pack", lambda *a, **k: pytest.fail("the run started"))
    result = _evaluate("--out", "afile/out")
    assert result.exit_code == 1 and "afile is a file" in result.output


def test_init_into_an_output_folder_creates_nothing(previous_out):
    before = sorted(p.name for p in previous_out.iterdir())
    result = runner.invoke(app, ["init", str(previous_out)])
    assert result.exit_code == 1
    assert sorted(p.name for p in previous_out.iterdir()) == before  # no stray out/rules


def test_init_checks_every_destination_before_writing(tmp_path):
    (tmp_path / "proj" / "playbooks").mkdir(parents=True)
    (tmp_path / "proj" / "playbooks" / "mine.md.j2").write_text("x")
    result = runner.invoke(app, ["init", "proj"])
    assert result.exit_code == 1 and "playbooks already exists" in result.output
    assert not (tmp_path / "proj" / "rules").exists()


def test_init_that_fails_half_way_keeps_nothing(tmp_path, monkeypatch):
    from kamrules import resources

    calls, real_copy = [], shutil.copyfile

    def failing_copy(source, destination):
        calls.append(destination)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_copy(source, destination)

    monkeypatch.setattr(resources.shutil, "copyfile", failing_copy)
    with pytest.raises(ConfigError, match="No space left on device"):
        resources.init_project(tmp_path / "proj")
    assert not (tmp_path / "proj" / "rules").exists() and not (tmp_path / "proj" / "playbooks").exists()


# ------------------------------------------------------------------ 3. --out as a symlink


def test_symlinked_out_is_written_where_it_points(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    assert _evaluate("--out", "link").exit_code == 0
    assert _evaluate("--out", "link").exit_code == 0  # and again, replacing the previous results
    assert (tmp_path / "link").is_symlink()
    assert (tmp_path / "real" / "manifest.json").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no hidden leftovers


def test_out_folder_mode_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        assert _evaluate("--out", "out").exit_code == 0
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755


# ------------------------------------------------------------------ 2. symlinks, FIFOs, devices


def _pack_with(tmp_path: Path, name: str, make) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(RULES, pack)
    make(pack / name)
    return pack


@pytest.mark.parametrize("kind, expected", [
    ("outside link", "outside its folder"),
    ("fifo", "not a regular file"),
    ("dev zero", "outside its folder"),
])
def test_rule_files_that_are_links_out_fifos_or_devices_are_refused(tmp_path, kind, expected):
    from kamrules.pack import load_pack

    secret = tmp_path / "secret.yaml"
    secret.write_text("fields: {}\n")
    makers = {
        "outside link": lambda p: os.symlink(secret, p),
        "fifo": lambda p: os.mkfifo(p),
        "dev zero": lambda p: os.symlink("/dev/zero", p),
    }
    pack = _pack_with(tmp_path, "zz.yaml", makers[kind])
    with pytest.raises(RuleError, match=expected):
        load_pack(pack)  # returns at once: a FIFO is never opened for reading


def test_a_rule_file_given_directly_as_a_device_is_refused():
    from kamrules.pack import load_pack

    with pytest.raises(RuleError, match="not a regular file"):
        load_pack(Path("/dev/zero"))


def test_links_inside_the_pack_folder_still_work(tmp_path):
    from kamrules.pack import load_pack

    pack = tmp_path / "pack"
    shutil.copytree(RULES, pack)
    first = sorted(pack.glob("*.yaml"))[0]
    first.rename(pack / "real.txt")
    os.symlink("real.txt", first)
    assert load_pack(pack).decisions


def test_columns_file_linking_out_of_its_folder_is_refused(tmp_path):
    from kamrules.data.reader import load_column_mapping

    (tmp_path / "cfg").mkdir()
    os.symlink("/etc/passwd", tmp_path / "cfg" / "columns.yaml")
    with pytest.raises(ConfigError, match="outside its folder"):
        load_column_mapping(tmp_path / "cfg" / "columns.yaml")


@pytest.mark.parametrize("template", [
    '{% include "etc/passwd" %}',      # a linked folder
    '{% include "secret.md.j2" %}',    # a linked file
])
def test_templates_cannot_read_files_outside_their_folder_through_links(tmp_path, template):
    from kamrules.documents.environment import make_environment
    from kamrules.errors import TemplateError

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    os.symlink("/etc", tpl / "etc")
    os.symlink(secret, tpl / "secret.md.j2")
    (tpl / "probe.md.j2").write_text(template)
    env = make_environment(tpl)
    with pytest.raises(TemplateError, match="outside its folder"):
        env.get_template("probe.md.j2").render()


def test_report_template_linked_to_a_system_file_is_refused(tmp_path):
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    os.symlink("/etc/passwd", tpl / "report.html.j2")
    result = _evaluate("--out", "out", "--playbooks-dir", str(tpl))
    assert result.exit_code == 1 and "outside its folder" in result.output
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ 4. YAML alias bombs, cycles, nesting


def _bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, expected", [
    (_bomb(), "alias bomb"),
    ("x: &x [*x]\n", "refers to itself"),
    ("fields: " + "[" * 900 + "]" * 900 + "\n", "nested more than 64 levels"),
    ("".join(" " * i + f"k{i}:\n" for i in range(500)) + " " * 500 + "v\n", "nested more than 64 levels"),
])
def test_hostile_yaml_is_refused_with_a_location(tmp_path, text, expected):
    from kamrules.pack.yamlsrc import load_yaml

    (tmp_path / "r.yaml").write_text(text)
    document, diagnostics = load_yaml(tmp_path / "r.yaml", "r.yaml")
    assert document is None
    assert len(diagnostics) == 1 and expected in diagnostics[0].message
    assert str(diagnostics[0]).startswith("r.yaml:")


def test_alias_bomb_in_a_columns_file_is_refused(tmp_path):
    from kamrules.data.reader import load_column_mapping

    (tmp_path / "columns.yaml").write_text(_bomb())
    with pytest.raises(ConfigError, match="alias bomb"):
        load_column_mapping(tmp_path / "columns.yaml")


def test_ordinary_aliases_and_merge_keys_still_work(tmp_path):
    from kamrules.pack.yamlsrc import load_yaml

    (tmp_path / "r.yaml").write_text("base: &b {a: 1}\nother:\n  <<: *b\n  c: 2\n")
    document, diagnostics = load_yaml(tmp_path / "r.yaml")
    assert diagnostics == [] and document["other"] == {"a": 1, "c": 2}


# ------------------------------------------------------------------ crashes: BrokenPipe


def test_a_closed_pipe_stops_quietly_without_a_traceback(tmp_path):
    code = (
        "import sys\n"
        "class Closed:\n"
        "    encoding = 'utf-8'\n"
        "    def write(self, text): raise BrokenPipeError(32, 'Broken pipe')\n"
        "    def flush(self): raise BrokenPipeError(32, 'Broken pipe')\n"
        "    def isatty(self): return False\n"
        "sys.stdout = Closed()\n"
        f"sys.argv = ['kamrules', 'validate', {str(RULES)!r}]\n"
        "from kamrules.cli import main\n"
        "main()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert "Traceback" not in done.stderr and "bug" not in done.stderr, done.stderr
    assert done.returncode == 141  # as documented (click's own handler used to make it 1)


# ------------------------------------------------------------------ 11. workers die with their parent


def test_pool_workers_die_when_the_parent_is_killed(tmp_path):
    pids = tmp_path / "pids"
    code = (
        "import os, time\n"
        "from kamrules.processes import worker_pool\n"
        "def work(_):\n"
        f"    open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')\n"
        "    time.sleep(120)\n"
        "with worker_pool(2) as pool:\n"
        "    list(pool.map(work, range(2)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", code], env=env)
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not pids.exists() or len(pids.read_text().split()) < 2):
        time.sleep(0.1)
    workers = [int(p) for p in pids.read_text().split()]
    assert len(workers) == 2
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 20
    alive = workers
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _alive(p)]
        time.sleep(0.1)
    assert alive == [], "workers outlived their parent"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_the_records_templates_may_read_are_exactly_these():
    """The sandbox's allow-list of record types is gathered from the context modules; moving a class
    between modules must neither drop one (a template stops working) nor add one unnoticed."""
    from kamrules.documents.environment import _safe_types

    records, mappings = _safe_types()
    assert sorted(t.__name__ for t in records) == [
        "AccountLine", "AccountSince", "AccountView", "ActionRow", "Breakdown", "Chart", "ChartPoint", "Choice",
        "ContactRow", "Count", "CountRow", "CountTable", "CurvePoint", "DecisionResult", "DecisionView", "Fact",
        "Finding", "KeyAccountBand", "LoopContext", "Losses", "NamedAccount", "NoteRow", "NoteSection", "Notes",
        "Objective", "OverrideLine", "OverrideRow", "OwnerView",
        "ParetoSplit", "PlanSection",
        "PlaybookContext", "Portfolio", "ProfileView", "ProgressLine", "ProgressRow", "Reason", "RegionRow",
        "RegionView", "ReportContext", "ReviewCycleView", "RiskAccount", "RiskSignal", "RunInfo", "Score", "Service", "Signal", "SignalView", "SinceLastReview",
        "Stat", "SwotRow", "Tick", "UnusedRule", "UnusedRuleView"]
    assert sorted(t.__name__ for t in mappings) == ["Strings", "Texts", "Values"]
