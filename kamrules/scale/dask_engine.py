"""`kamrules evaluate DATASET --engine dask`: a portfolio past one machine's memory, on Dask.

DATASET is a folder of Parquet parts (or a glob of them) whose columns are the pack's fields. Pass 1
collects the columns the portfolio-wide figures read (a few, of every account) and computes the
figures on the client with the one-process code (engine/portfolio_wide.py). Pass 2 sends each
partition, with its slice of the figures, to a worker: the row-local features, the decisions (each
distinct situation of the partition asked once of that worker's durable_rules), the partition's
decision table as Parquet. The client writes the parts as they come, then the folder atomically:
`decisions/part-00000.parquet …` and `manifest.json`. Only the decision table is written: the
report, playbooks, trace and actions need the one-process run (docs/scale.md).

Optional: `pip install "kamrules[dask]"` (dask[dataframe] and distributed).
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from kamrules.errors import ConfigError, UsageError

INSTALL_HINT = '--engine dask needs Dask: pip install "kamrules[dask]" (dask[dataframe] and distributed)'
DASK_ENGINE = "dask"
ENGINES = ("process", DASK_ENGINE)


@dataclass
class DaskOptions:
    data: str  # a folder of Parquet parts, or a glob
    rules: Path
    out: Path
    as_of: dt.date
    scheduler: str | None = None  # a Dask scheduler's address; None: a LocalCluster on this machine
    workers: int = 2  # the LocalCluster's worker processes
    processes: bool = True  # LocalCluster workers as processes (False: threads of this process)
    lang: str = "en"
    force: bool = False


@dataclass
class DaskResult:
    out: Path
    accounts: int
    parts: int
    files: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)


def require_dask() -> None:
    """Refuse `--engine dask` without Dask installed, saying how to install it (exit 2)."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


def dataset_parts(data: str) -> list[str]:
    """The Parquet files of DATASET: a folder's `*.parquet` (sorted), or what a glob matches."""
    path = Path(data)
    found = sorted(str(p) for p in path.glob("*.parquet")) if path.is_dir() else sorted(glob.glob(data))
    if not found:
        raise ConfigError(f"{data}: no Parquet parts found; give a folder of .parquet files or a glob "
                          "such as 'parts/*.parquet'")
    return found


def evaluate_dask(options: DaskOptions, progress: Callable[[str], None] | None = None) -> DaskResult:
    """Evaluate DATASET on Dask and write OUT (decisions/part-*.parquet and manifest.json) atomically."""
    import time

    from kamrules.data.writer import check_out, write_outputs
    from kamrules.pack import load_pack

    require_dask()
    step = progress or (lambda stage: None)
    parts = dataset_parts(options.data)
    check_out(options.out, [Path(p) for p in parts] + [options.rules], force=options.force)
    pack = load_pack(options.rules)
    timings: dict[str, float] = {}
    scratch = Path(tempfile.mkdtemp(prefix=f".{options.out.name}.kamrules-dask-", dir=options.out.absolute().parent))
    frame = _read(parts)  # (lazily: its columns and their types, checked before a cluster is started)
    check_columns(pack, dict(frame.dtypes), options.data, options.lang)
    try:
        with _client(options) as client:
            started = time.perf_counter()
            step("portfolio-wide figures (pass 1)")
            figures, offsets = _first_pass(pack, frame, options.as_of)
            timings["figures"] = time.perf_counter() - started
            started = time.perf_counter()
            step(f"deciding {offsets[-1]:,} accounts in {len(offsets) - 1} partitions (pass 2)")
            names = _second_pass(client, pack, frame, figures, offsets, options, scratch)
            timings["decisions"] = time.perf_counter() - started
        files: dict = {name: _file_chunks(scratch / name) for name in names}
        files["manifest.json"] = _manifest(pack, options, parts, int(offsets[-1]), sorted([*names, "manifest.json"]))
        write_outputs(options.out, files, inputs=[Path(p) for p in parts], force=options.force)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return DaskResult(options.out, int(offsets[-1]), len(names), sorted(files), timings)


class _client:
    """The Dask client: of the scheduler at `options.scheduler`, else of a LocalCluster made for the run."""

    def __init__(self, options: DaskOptions):
        self.options, self.cluster, self.client = options, None, None

    def __enter__(self):
        from distributed import Client, LocalCluster

        if self.options.scheduler:
            try:
                self.client = Client(self.options.scheduler, timeout="10s")
            except OSError as exc:
                raise ConfigError(f"--scheduler {self.options.scheduler}: cannot reach the Dask scheduler ({exc})") from None
        else:
            self.cluster = LocalCluster(n_workers=self.options.workers, threads_per_worker=1,
                                        processes=self.options.processes, dashboard_address=None)
            self.client = Client(self.cluster)
        return self.client

    def __exit__(self, *exc) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _read(parts: list[str]):
    import dask.dataframe as dd

    return dd.read_parquet(parts)


_KINDS = {"number": "fiu", "integer": "fiu", "boolean": "b", "date": "M"}  # numpy kinds each field type takes
_TYPE_WORDS = {"en": {"number": "number", "integer": "number", "boolean": "true/false", "date": "date"},
               "zh": {"number": "数字", "integer": "数字", "boolean": "是/否", "date": "日期"}}


def check_columns(pack, dtypes: dict, data: str, lang: str = "en") -> None:
    """Refuse a dataset that lacks a required field, or holds a number, date or true/false field as
    another type (one process converts text; here a text number would silently be missing)."""
    from kamrules.data.wording import field_ref, say

    missing = [field_ref(n, s.label, lang) for n, s in pack.fields.items() if s.required and n not in dtypes]
    if missing:
        raise ConfigError(say(lang, "dask_missing", data=data, fields=", ".join(missing)))
    for name, spec in pack.fields.items():
        kinds = _KINDS.get(spec.type)
        dtype = dtypes.get(name)
        if kinds is None or dtype is None:
            continue
        kind = "b" if isinstance(dtype, pd.BooleanDtype) else getattr(dtype, "kind", "O")
        if kind not in kinds:
            words = _TYPE_WORDS.get(lang, _TYPE_WORDS["en"])
            raise ConfigError(say(lang, "dask_type", data=data, field=field_ref(name, spec.label, lang),
                                  found=str(dtype), expected=words[spec.type]))


def _first_pass(pack, frame, as_of: dt.date) -> tuple[pd.DataFrame, np.ndarray]:
    """(the portfolio-wide figures of every account, the partitions' offsets): the columns the figures
    read are gathered on the client, the figures computed by the one-process code."""
    from kamrules.engine.portfolio_wide import first_pass_fields, portfolio_figures

    wanted = [name for name in first_pass_fields(pack) if name in frame.columns]
    lengths = frame.map_partitions(len).compute()
    offsets = np.concatenate([[0], np.cumsum(np.asarray(lengths, dtype=np.int64))])
    gathered = frame[wanted].compute().reset_index(drop=True) if wanted else pd.DataFrame(index=range(offsets[-1]))
    return portfolio_figures(pack, gathered, as_of), offsets


def _second_pass(client, pack, frame, figures: pd.DataFrame, offsets: np.ndarray, options: DaskOptions,
                 scratch: Path) -> list[str]:
    """Each partition decided on a worker and its decision table written by the client as it comes."""
    from distributed import as_completed

    parts = frame.to_delayed()
    futures = {}
    for number, part in enumerate(parts):
        start, stop = int(offsets[number]), int(offsets[number + 1])
        future = client.compute(part)
        futures[client.submit(decide_partition, pack, future, figures.iloc[start:stop].reset_index(drop=True),
                              start, options.as_of, options.lang, pure=False)] = number
    names = [""] * len(parts)
    (scratch / "decisions").mkdir()
    for future in as_completed(futures):
        number = futures[future]
        names[number] = f"decisions/part-{number:05d}.parquet"
        (scratch / names[number]).write_bytes(future.result())
        future.release()
    return names


def decide_partition(pack, part: pd.DataFrame, figures: pd.DataFrame, start: int, as_of: dt.date,
                     lang: str) -> bytes:
    """One partition's decision table as Parquet: its accounts evaluated with their portfolio-wide
    figures given (row numbers continue from `start`), written as the one-process run writes it."""
    from kamrules.data.tables import parquet_parts_chunks
    from kamrules.engine.evaluate import evaluate
    from kamrules.results.outputs import decision_frame, decision_kinds

    part = part.reset_index(drop=True)
    rows = np.arange(start + 2, start + 2 + len(part))
    evaluation = evaluate(pack, part, as_of=as_of, row_numbers=rows, figures=figures, lang=lang)
    table, _ = decision_frame(evaluation, lang)
    return b"".join(parquet_parts_chunks(iter([table]), decision_kinds(evaluation)))


def _file_chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(size):
            yield chunk


def _manifest(pack, options: DaskOptions, parts: list[str], accounts: int, files: list[str]) -> bytes:
    from kamrules import __version__

    record = {"kamrules": __version__, "engine": DASK_ENGINE, "pack": {"name": pack.name, "hash": pack.hash},
              "as_of": options.as_of.isoformat(), "inputs": [Path(p).name for p in parts], "accounts": accounts,
              "files": files}
    return (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
