"""Where the default rule pack, playbooks and example data are: packaged, or in a source checkout."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

from kamrules.errors import ConfigError

_CHECKOUT = Path(__file__).resolve().parent.parent


def default_dir(kind: str) -> Path:
    """The packaged default `rules`, `playbooks` or `examples` folder.

    Installed (`pip install .`), they are data folders inside the package (`kamrules/defaults/KIND`,
    see pyproject.toml); in a source checkout or an editable install, the folders at the top of the
    repository. (Plain paths: the folders are namespace packages, which importlib.resources serves
    as a MultiplexedPath rather than a folder.)"""
    for candidate in (Path(__file__).resolve().parent / "defaults" / kind, _CHECKOUT / kind):
        if candidate.is_dir() and any(candidate.iterdir()):
            return candidate
    raise ConfigError(f"the default {kind} are not installed: reinstall kamrules (pip install .)")


def rules_dir(option: Path | None) -> Path:
    """`--rules DIR`, else `./rules` when it exists, else the packaged default pack."""
    if option is not None:
        return option
    local = Path("rules")
    if local.is_dir():
        return local
    return default_dir("rules")


def playbooks_dir(option: Path | None) -> Path | None:
    """`--playbooks-dir DIR`, else `./playbooks` when it exists, else None (packaged defaults)."""
    if option is not None:
        if not option.is_dir():
            raise ConfigError(f"{option}: no such playbooks folder")
        return option
    local = Path("playbooks")
    return local if local.is_dir() else None


def example_data() -> Path:
    return default_dir("examples") / "customers.csv"


# The date the bundled example was built for (examples/generate.py): evaluated as of it unless --as-of
# says otherwise, so the quickstart shows what the docs show, whatever today is.
EXAMPLE_AS_OF = dt.date(2026, 11, 27)


def is_example(path: Path | None) -> bool:
    """Whether `path` is the bundled example data."""
    if path is None:
        return False
    try:
        return Path(path).resolve() == example_data().resolve()
    except (OSError, ConfigError):
        return False


def _init_files(kind: str) -> list[Path]:
    source = default_dir(kind)
    return [item for item in sorted(source.rglob("*"))
            if item.is_file() and not item.name.startswith((".", "__")) and item.suffix not in (".py", ".pyc")]


def init_project(target: Path, *, force: bool = False, name: str | None = None) -> list[Path]:
    """Copy the default rule pack and playbooks into `target/rules` and `target/playbooks`, all or
    nothing: every destination is checked before anything is written, and a copy that fails half-way
    removes what it created (a stray `rules/` inside an output folder would be deleted by the next run).
    With `name`, the copied pack is named after the team (see `name_pack`)."""
    if name is not None:
        _pack_slug(name)  # a bad name stops before anything is copied
    kinds = ("rules", "playbooks")
    for kind in kinds:
        destination = target / kind
        if destination.exists() and not destination.is_dir():
            raise ConfigError(f"{destination} is a file: remove it or choose another folder")
        if destination.is_dir() and any(destination.iterdir()) and not force:
            raise ConfigError(f"{destination} already exists and is not empty: pass --force to overwrite it")
    if (target / ".kamrules-out").is_file():
        raise ConfigError(f"{target} is a kamrules output folder, which the next run replaces: choose another folder")
    created: list[Path] = []
    made_dirs: list[Path] = []
    try:
        for kind in kinds:
            source, destination = default_dir(kind), target / kind
            for item in _init_files(kind):
                copy = destination / item.relative_to(source)
                for folder in reversed([copy.parent, *copy.parent.parents]):
                    if not folder.exists():
                        folder.mkdir()
                        made_dirs.append(folder)
                shutil.copyfile(item, copy)
                created.append(copy)
    except OSError as exc:
        for path in reversed(created if not force else []):
            path.unlink(missing_ok=True)
        for folder in reversed(made_dirs):
            shutil.rmtree(folder, ignore_errors=True)
        raise ConfigError(f"{target}: cannot create the project ({exc.strerror or exc}); nothing was kept") from None
    if name is not None:
        name_pack(target / "rules" / "00-pack.yaml", name)
    return created


_PACK_NAME = re.compile(r"^(?P<key>  (?:name|title|version)):.*$", re.MULTILINE)


def name_pack(pack_file: Path, name: str) -> None:
    """Give a copied default pack the team's name: `name` (a slug), `title` (the name as given) and
    version 1.0, so documents no longer call an edited pack "(default pack)". Only the three lines under
    `pack:` change; the comments and the rest of the file stay as written."""
    title = " ".join(name.split())
    values = {"  name": _pack_slug(name), "  title": json.dumps(title, ensure_ascii=False), "  version": '"1.0"'}
    text = pack_file.read_text(encoding="utf-8")
    head, separator, rest = text.partition("\npack:\n")
    block, end, tail = rest.partition("\n\n")
    block = _PACK_NAME.sub(lambda m: f"{m['key']}: {values[m['key']]}", block)
    pack_file.write_text(head + separator + block + end + tail, encoding="utf-8")


def _pack_slug(name: str) -> str:
    """The pack name for a team's name: lower case, words joined by '-' ("Acme KAM" -> "acme-kam")."""
    slug = re.sub(r"[^\w-]+", "-", " ".join(name.split()).casefold()).strip("-")
    if not slug:
        raise ConfigError(f"--name '{name}' has no letters or digits; give the team's pack a name like 'acme-kam'")
    return slug
