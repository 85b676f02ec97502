"""Shared test set-up: the repo's scripts/ and tests/ are importable."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run of the suite, so CI on a clean clone
# passes or fails on the code alone; HYPOTHESIS_PROFILE=explore (``make explore``) draws
# new ones each run, to look for what the fixed ones miss.
settings.register_profile("suite", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

# The suite starts hundreds of child processes (``python -m otlint``, the sidecar,
# pre-commit): where PYTHONDONTWRITEBYTECODE is set (some sandboxes and CI images set it),
# each would compile otlint's modules again, ~0.1 s a start and a minute over the suite.
# Children write and reuse __pycache__ as Python does by default (git ignores it).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT / "tests", ROOT / "scripts"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

#: The shared conformance data, beside the repository (as CI lays it out too). A fresh
#: clone has none: tests that read it are marked ``needs_shared`` and skip; every
#: behaviour they check is also pinned by the project's own fixtures (OWN_OTLP).
CONFORMANCE = ROOT.parent / "shared" / "conformance"
#: The project's own OTLP/JSON documents, one behaviour each (see its README.md).
OWN_OTLP = ROOT / "tests" / "fixtures" / "otlp"
#: The SARIF 2.1.0 JSON schema in the shared corpus.
SARIF_SCHEMA = CONFORMANCE / "sarif" / "sarif-schema-2.1.0.json"

NEEDS_SHARED_REASON = (
    f"needs the shared conformance corpus at {CONFORMANCE} (absent on a fresh clone; "
    "what it checks is pinned by tests/fixtures/otlp and the structural SARIF tests)"
)


def otlint(
    *args: str, cwd: Path | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command line (``python -m otlint ARGS``) as a user does, output captured;
    ``timeout``: seconds after which a hang fails the test (default: none)."""
    return subprocess.run(
        [sys.executable, "-m", "otlint", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=timeout,
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--update-goldens`` rewrites golden files (tests/reporters/golden) instead of comparing."""
    parser.addoption(
        "--update-goldens", action="store_true", default=False, help="rewrite golden files"
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register ``needs_shared``: the test reads ../shared/conformance and skips without it."""
    config.addinivalue_line(
        "markers",
        "needs_shared: reads ../shared/conformance; skipped with a reason when it is absent",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip every ``needs_shared`` test, with the reason, when the shared corpus is absent.

    ``OTLINT_REQUIRE_SHARED=1`` turns the skip into a failure, for a CI that lays the
    corpus out and must notice when it goes missing.
    """
    if CONFORMANCE.is_dir():
        return
    if os.environ.get("OTLINT_REQUIRE_SHARED") == "1":
        raise pytest.UsageError(f"OTLINT_REQUIRE_SHARED=1 but {CONFORMANCE} is absent")
    skip = pytest.mark.skip(reason=NEEDS_SHARED_REASON)
    for item in items:
        if item.get_closest_marker("needs_shared") is not None:
            # First, so that this reason, not "got empty parameter set", is the one shown.
            item.add_marker(skip, append=False)


def fixture_cases(folder: Path) -> list[Any]:
    """Every case of every ``CODE.yaml`` fixture file in ``folder``, as pytest params (code, case)."""
    import yaml

    out = []
    for path in sorted(folder.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            out.append(pytest.param(doc["rule"], case, id=f"{path.stem}:{case['name']}"))
    return out


def fixture_docs(folder: Path, codes: list[str]) -> dict[str, Any]:
    """The fixture file of each rule code, checked: it exists, names its rule, and has at
    least one failing and one passing case."""
    import yaml

    docs = {}
    for code in codes:
        path = folder / f"{code}.yaml"
        assert path.exists(), f"{code} has no fixture file {path.name}"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert doc["rule"] == code
        kinds = {bool(c.get("expect")) for c in doc["cases"]}
        assert kinds == {True, False}, f"{code} needs at least one failing and one passing case"
        docs[code] = doc
    return docs


#: SARIF 2.1.0's ``level`` values (result.level, reportingConfiguration.level).
SARIF_LEVELS = frozenset({"none", "note", "warning", "error"})
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def sarif_problems(log: Any) -> list[str]:
    """What a SARIF log lacks of what SARIF 2.1.0 requires of the parts otlint emits; [] if none.

    Needs nothing beside the repository (the full JSON schema is in ../shared, see the
    ``needs_shared`` tests). Checked: ``version`` "2.1.0" and ``$schema``; each run's
    ``tool.driver.name`` and rules with unique string ``id`` (texts with ``text``, levels
    in the allowed set, tags distinct strings); each result's ``ruleId``, a ``ruleIndex``
    that points at the rule of that id, ``level``, ``message.text``, and locations with
    ``physicalLocation.artifactLocation.uri`` (a URI reference) and ``region.startLine``
    (and ``startColumn``) of at least 1.
    """
    out: list[str] = []

    def need(ok: bool, what: str) -> bool:
        if not ok:
            out.append(what)
        return ok

    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    def text_of(obj: Any, where: str) -> None:
        need(
            isinstance(obj, dict) and isinstance(obj.get("text"), str) and bool(obj["text"]),
            f"{where}.text is a non-empty string",
        )

    def location(loc: Any, where: str) -> None:
        phys = loc.get("physicalLocation") if isinstance(loc, dict) else None
        if not need(isinstance(phys, dict), f"{where}.physicalLocation is an object"):
            return
        uri = (phys.get("artifactLocation") or {}).get("uri")
        if need(
            isinstance(uri, str) and bool(uri),
            f"{where}.physicalLocation.artifactLocation.uri is a non-empty string",
        ):
            need(
                " " not in uri and "\\" not in uri,
                f"{where} uri {uri!r} is a URI reference (no spaces or backslashes)",
            )
            scheme = _URI_SCHEME.match(uri)
            need(
                scheme is None or uri.startswith("file:///"),
                f"{where} uri {uri!r} is relative or a file:/// URI",
            )
        region = phys.get("region")
        if region is not None:
            need(
                is_int(region.get("startLine")) and region["startLine"] >= 1,
                f"{where}.region.startLine is an integer >= 1",
            )
            if "startColumn" in region:
                need(
                    is_int(region["startColumn"]) and region["startColumn"] >= 1,
                    f"{where}.region.startColumn is an integer >= 1",
                )

    if not need(isinstance(log, dict), "the log is a JSON object"):
        return out
    need(log.get("version") == "2.1.0", 'version is "2.1.0"')
    schema = log.get("$schema")
    need(
        isinstance(schema, str)
        and schema.startswith("https://")
        and "sarif" in schema
        and "2.1.0" in schema,
        "$schema is the https URI of the SARIF 2.1.0 schema",
    )
    runs = log.get("runs")
    if not need(isinstance(runs, list) and len(runs) >= 1, "runs is a non-empty array"):
        return out
    for r, run in enumerate(runs):
        where = f"runs[{r}]"
        driver = ((run.get("tool") if isinstance(run, dict) else None) or {}).get("driver")
        if not need(isinstance(driver, dict), f"{where}.tool.driver is an object"):
            continue
        need(
            isinstance(driver.get("name"), str) and bool(driver["name"]),
            f"{where}.tool.driver.name is a non-empty string",
        )
        rules = driver.get("rules", [])
        if not need(isinstance(rules, list), f"{where}.tool.driver.rules is an array"):
            continue
        ids = [rule.get("id") if isinstance(rule, dict) else None for rule in rules]
        need(all(isinstance(i, str) and i for i in ids), f"{where}: every rule has a string id")
        need(len(set(map(str, ids))) == len(ids), f"{where}: rule ids are unique")
        for i, rule in enumerate(r for r in rules if isinstance(r, dict)):
            rw = f"{where}.tool.driver.rules[{i}]"
            for key in ("shortDescription", "fullDescription", "help"):
                if key in rule:
                    text_of(rule[key], f"{rw}.{key}")
            level = (rule.get("defaultConfiguration") or {}).get("level", "warning")
            need(
                level in SARIF_LEVELS,
                f"{rw}.defaultConfiguration.level {level!r} is one of {sorted(SARIF_LEVELS)}",
            )
            tags = (rule.get("properties") or {}).get("tags", [])
            need(
                isinstance(tags, list)
                and all(isinstance(t, str) for t in tags)
                and len(set(tags)) == len(tags),
                f"{rw}.properties.tags are distinct strings",
            )
        need(
            run.get("columnKind", "unicodeCodePoints") in ("unicodeCodePoints", "utf16CodeUnits"),
            f"{where}.columnKind is unicodeCodePoints or utf16CodeUnits",
        )
        results = run.get("results")
        if not need(isinstance(results, list), f"{where}.results is an array"):
            continue
        for n, res in enumerate(results):
            rw = f"{where}.results[{n}]"
            if not need(isinstance(res, dict), f"{rw} is an object"):
                continue
            rule_id, index = res.get("ruleId"), res.get("ruleIndex")
            need(isinstance(rule_id, str) and bool(rule_id), f"{rw}.ruleId is a non-empty string")
            if need(
                is_int(index) and 0 <= index < len(rules),
                f"{rw}.ruleIndex {index!r} is an index into the rules",
            ):
                need(
                    ids[index] == rule_id,
                    f"{rw}.ruleIndex {index} is rule {ids[index]!r}, not its ruleId {rule_id!r}",
                )
            need(
                res.get("level", "warning") in SARIF_LEVELS,
                f"{rw}.level {res.get('level')!r} is one of {sorted(SARIF_LEVELS)}",
            )
            text_of(res.get("message"), f"{rw}.message")
            fingerprints = res.get("partialFingerprints", {})
            need(
                isinstance(fingerprints, dict)
                and all(isinstance(v, str) for v in fingerprints.values()),
                f"{rw}.partialFingerprints values are strings",
            )
            for key in ("locations", "relatedLocations"):
                locs = res.get(key, [])
                if need(isinstance(locs, list), f"{rw}.{key} is an array"):
                    for k, loc in enumerate(locs):
                        location(loc, f"{rw}.{key}[{k}]")
    return out
