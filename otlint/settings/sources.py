"""Reading one config file: finding the project config, YAML, ``[tool.otlint]``, rule sets.

Every file becomes a ``Source``: its raw data (not yet validated), the positions of its
keys and values, and how messages name it. YAML positions come from
``otlint.core.yamlpos``, TOML positions from ``otlint.settings.tomlpos``; the shipped
rule sets are read from their JSON twins (written by ``make docs``) so that a run with
no project config does not load PyYAML.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from otlint.core.errors import OtlintError
from otlint.core.marks import Marks, YamlPath
from otlint.core.textfile import decode
from otlint.settings.messages import dotted, hint, kind

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = [
    "CONFIG_NAMES",
    "TOP_KEYS",
    "Source",
    "find_config",
    "open_extends",
    "open_file",
    "project_config",
    "shipped_rulesets",
]

#: Project config file names, looked for in this order in each directory.
CONFIG_NAMES = (".otlint.yaml", ".otlint.yml")
#: The keys of a config file, in the order messages list them.
TOP_KEYS = ("extends", "fail-on", "select", "ignore", "rules", "services", "paths")
#: Where the settings sit in a ``pyproject.toml``.
PYPROJECT_TABLE = ("tool", "otlint")

#: Raw data as a YAML or TOML parser returns it: validation gives it types.
Raw = Any


@dataclass
class Source:
    """One config file as read: data, positions, and how messages name it."""

    data: dict[Raw, Raw]
    marks: Marks
    shown: str  # the file as messages name it
    ident: str  # identity for cycle detection
    base: Path | None  # where relative extends and path globs resolve (None: shipped)
    table: tuple[str, ...] = ()  # where the settings sit in the file: ("tool", "otlint")

    def error(self, at: YamlPath, message: str, *, value: bool = False) -> OtlintError:
        """An error at ``at``'s key (or value): ``file:line:col: message``."""
        pos = self.marks.near(at, value=value)
        text = f"{self.shown}:{pos.line}:{pos.column}: {message}"
        if self.table:
            # TOML may spell one key path in pieces (table headers, dotted keys): name
            # the whole path, too.
            text += f" [{dotted((*self.table, *at))}]"
        return OtlintError(text)


# --------------------------------------------------------------------------- finding


def find_config(start: Path) -> Path | None:
    """The project config for ``start``: the nearest ``.otlint.yaml`` / ``.otlint.yml``,
    or ``pyproject.toml`` with a ``[tool.otlint]`` table, in ``start`` or a parent.

    Within one directory the YAML file wins over ``pyproject.toml``; a
    ``pyproject.toml`` without the table is passed over. None if nothing is found
    before the filesystem root.
    """
    here = Path(os.path.abspath(start))
    if here.is_file():
        here = here.parent
    for directory in (here, *here.parents):
        found = [directory / name for name in CONFIG_NAMES if (directory / name).is_file()]
        if len(found) > 1:
            raise OtlintError(
                f"{found[0]}: both {found[0].name} and {found[1].name} exist here: keep one"
            )
        if found:
            return found[0]
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_otlint_table(pyproject):
            return pyproject
    return None


def project_config(config: Path | None, cwd: Path) -> Path | None:
    """The project config: ``config`` (``-c FILE``, which must exist; a FIFO is read as a
    stream), else found from ``cwd``."""
    if config is None:
        return find_config(cwd)
    path = config if config.is_absolute() else cwd / config
    if not path.exists() or path.is_dir():
        # Not only a regular file: ``-c <(generate)`` names a pipe, read to its end.
        raise OtlintError(f"{config}: config file not found")
    return path


def shipped_rulesets() -> list[str]:
    """Names of the rule sets shipped in ``otlint.rulesets``, sorted."""
    return sorted(
        item.name.removesuffix(".yaml")
        for item in _rulesets_dir().iterdir()
        if item.name.endswith(".yaml")
    )


# --------------------------------------------------------------------------- opening


def open_file(path: Path, cwd: Path) -> Source:
    """Read a YAML config, or the ``[tool.otlint]`` table of a TOML file."""
    shown = _shown(path, cwd)
    text = _read(path, shown)
    ident = str(path.resolve())
    if path.suffix == ".toml":
        return _toml_source(text, shown, ident, path.parent)
    return _yaml_source(text, shown, ident, Path(os.path.abspath(path)).parent)


def open_extends(name: str, source: Source | None, cwd: Path) -> Source:
    """The rule set ``name`` (shipped name or path) that ``source`` extends.

    ``source`` None means the default rule set, resolved against ``cwd``.
    """

    def fail(message: str) -> OtlintError:
        if source is None:
            return OtlintError(f"default rule set: {message}")
        return source.error(("extends",), message, value=True)

    if _looks_like_path(name):
        base = cwd if source is None else source.base
        if base is None and not os.path.isabs(name):
            raise fail(
                f"a shipped rule set can only extend shipped rule sets by name, not {name!r}"
            )
        path = Path(os.path.normpath(os.path.join(base or cwd, os.path.expanduser(name))))
        if not path.is_file():
            raise fail(f"extends {name!r}: no such file ({path})")
        return open_file(path, cwd)

    item = _rulesets_dir() / f"{name}.yaml"
    twin = _rulesets_dir() / f"{name}.json"
    if twin.is_file():
        # The YAML read ahead of time (``make docs``; a test holds them equal): no PyYAML.
        return Source(
            json.loads(_read(twin, str(twin))), Marks(), str(item), f"otlint.rulesets:{name}", None
        )
    if not item.is_file():
        names = shipped_rulesets()
        raise fail(
            f"unknown rule set {name!r}{hint(name, names)} (shipped: {', '.join(names) or 'none'}; "
            "a path needs a '/' or a .yaml suffix)"
        )
    return _yaml_source(_read(item, str(item)), str(item), f"otlint.rulesets:{name}", None)


def _shown(path: Path, cwd: Path) -> str:
    """A path as messages name it: relative to the working directory when inside it."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(cwd))
    except ValueError:
        return str(absolute)


def _read(path: Path | Traversable, shown: str) -> str:
    try:
        return decode(path.read_bytes())  # UTF-8, or UTF-16 / UTF-32 by their byte order mark
    except FileNotFoundError:
        raise OtlintError(f"{shown}: config file not found") from None
    except UnicodeDecodeError as exc:
        raise OtlintError(
            f"{shown}: not {exc.encoding} text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise OtlintError(f"{shown}: cannot read: {exc.strerror or exc}") from None


def _rulesets_dir() -> Path | Traversable:
    try:
        import otlint.rulesets as shipped  # type: ignore[import-not-found,unused-ignore]  # rules/, by package-dir
    except ModuleNotFoundError:
        raise OtlintError(
            "the shipped rule sets (otlint.rulesets) are not installed: reinstall otlint"
        ) from None
    if shipped.__file__ is not None:
        return Path(shipped.__file__).parent
    from importlib import resources  # a package without files (a zip import)

    return resources.files(shipped)


def _looks_like_path(name: str) -> bool:
    return (
        "/" in name
        or os.sep in name
        or name.startswith(".")
        or name.endswith((".yaml", ".yml", ".toml"))
    )


# --------------------------------------------------------------------------- YAML


def _yaml_source(text: str, shown: str, ident: str, base: Path | None) -> Source:
    from otlint.core.yamlpos import load_yaml_with_marks  # PyYAML: only when a YAML config is read

    data, marks = load_yaml_with_marks(text, shown)
    if data is None:
        data = {}  # an empty file is a valid config that changes nothing
    if not isinstance(data, dict):
        pos = marks.default
        raise OtlintError(
            f"{shown}:{pos.line}:{pos.column}: a config must be a mapping of settings "
            f"({', '.join(TOP_KEYS)}), not {kind(data)}"
        )
    return Source(data, marks, shown, ident, base)


# --------------------------------------------------------------------------- TOML


def _toml_source(text: str, shown: str, ident: str, base: Path) -> Source:
    document = _toml_load(text, shown)
    tool = document.get("tool", {})
    table = tool.get("otlint") if isinstance(tool, dict) else None
    if table is None:
        raise OtlintError(f"{shown}: no [tool.otlint] table")
    from otlint.settings.tomlpos import toml_marks  # tree-sitter: only when a TOML config is read

    marks = toml_marks(text, PYPROJECT_TABLE)
    if not isinstance(table, dict):
        pos = marks.default
        raise OtlintError(
            f"{shown}:{pos.line}:{pos.column}: tool.otlint must be a table, not {kind(table)}"
        )
    return Source(table, marks, shown, ident, base, table=PYPROJECT_TABLE)


def _toml_load(text: str, shown: str) -> dict[str, Raw]:
    """The TOML document's values (tomllib); a syntax error names ``file:line:col``."""
    import tomllib  # only for TOML configs

    try:
        return tomllib.loads(text)
    except RecursionError:
        # tomllib parses arrays and inline tables by recursion: ~490 levels end it.
        raise OtlintError(
            f"{shown}: invalid TOML: arrays or inline tables nested hundreds of levels "
            "deep; otlint reads no such file"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's TOMLDecodeError has the position only inside its message.
        message = str(exc)
        where = re.search(r"\(at line (\d+), column (\d+)\)|\(at end of document\)", message)
        if where is None:
            raise OtlintError(f"{shown}: invalid TOML: {message}") from None
        if where[1] is not None:
            line, col = int(where[1]), int(where[2])
        else:
            line, col = text.count("\n") + 1, len(text.rsplit("\n", 1)[-1]) + 1
        message = message[: where.start()].strip()
        raise OtlintError(f"{shown}:{line}:{col}: invalid TOML: {message}") from None


def _has_otlint_table(pyproject: Path) -> bool:
    text = _read(pyproject, str(pyproject))
    if "otlint" not in text:
        return False  # skip parsing every pyproject.toml on the way up
    import tomllib

    try:
        tool = tomllib.loads(text).get("tool")
    except (tomllib.TOMLDecodeError, RecursionError):
        # Broken, but ours if it has the header: loading it then reports where.
        return re.search(r"^\s*\[\s*tool\s*\.\s*otlint\b", text, re.MULTILINE) is not None
    return isinstance(tool, dict) and "otlint" in tool
