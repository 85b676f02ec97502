#!/usr/bin/env python3
"""What a compiled attribute walk would buy the spans' hot loop: a measurement, not a feature.

Builds ``kvcount.c`` (beside this file: a CPython extension, not part of otlint) with
``gcc`` into a temporary folder, then counts the KeyValue prefixes (tag, key, value
length, value tag: what fixes a KeyValue's (key, value type)) of every scope of the
spans two ways, on the columnar parse ``Observer`` makes:

- Python, as ``Observer._traces`` and ``_tally`` do: each KeyValue made a ``bytes``,
  counted with ``Counter``, each distinct one sliced and summed;
- compiled: the merged record serialized with only its attributes left (one ``bytes`` a
  scope), walked in C with a small hash table.

Both give the same counts (checked on the first 50 messages). The walk leaves out what
``_tally`` also keeps (the distinct KeyValues of the watched and scanned keys), so it is
a lower bound of a real helper's cost.

Usage: ``python bench/prototype/kvcount.py [--quick]``
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent


def build(folder: Path) -> Any:
    """Compile kvcount.c into ``folder`` and import it."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    target = folder / f"kvcount{suffix}"
    include = sysconfig.get_paths()["include"]
    subprocess.run(
        [
            "gcc",
            "-O2",
            "-shared",
            "-fPIC",
            f"-I{include}",
            str(HERE / "kvcount.c"),
            "-o",
            str(target),
        ],
        check=True,
    )
    spec = importlib.util.spec_from_file_location("kvcount", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 10%% corpus")
    args = parser.parse_args(argv)

    from otlint.cli.main import BATCH_GC
    from otlint.telemetry.observe import CTracesData

    path = BENCH / "out" / ("corpus-quick" if args.quick else "corpus") / "traces.binpb"
    frames = []
    with open(path, "rb") as f:
        while len(head := f.read(4)) == 4:
            frames.append(f.read(int.from_bytes(head, "big")))

    with tempfile.TemporaryDirectory() as folder:
        kvcount = build(Path(folder))

        def in_python(c: Any) -> dict[bytes, int]:
            out: Counter[bytes] = Counter()
            for kv, n in Counter(c.attributes[:]).items():
                out[kv[: kv[1] + 5]] += n
            return dict(out)

        def compiled(c: Any) -> dict[bytes, int]:
            for field, _ in c.ListFields():
                if field.name != "attributes":
                    c.ClearField(field.name)
            found: dict[bytes, int] = kvcount.count(c.SerializeToString())
            return found

        for payload in frames[:50]:
            one, two = CTracesData.FromString(payload), CTracesData.FromString(payload)
            for r1, r2 in zip(one.resource_spans, two.resource_spans, strict=True):
                for s1, s2 in zip(r1.scope_spans, r2.scope_spans, strict=True):
                    assert in_python(s1.spans) == compiled(s2.spans)

        def every_scope(fn: Callable[[Any], object]) -> None:
            for payload in frames:
                for rs in CTracesData.FromString(payload).resource_spans:
                    for ss in rs.scope_spans:
                        fn(ss.spans)

        gc.freeze()
        gc.set_threshold(*BATCH_GC)
        results = {}
        for name, fn in (
            ("columnar parse only", lambda c: None),
            ("+ Python: bytes, Counter, prefix sums", in_python),
            ("+ compiled: serialize, walk", compiled),
        ):
            best = float("inf")
            for _ in range(5):
                t0 = time.process_time()
                every_scope(fn)
                best = min(best, time.process_time() - t0)
            results[name] = best
        base = results["columnar parse only"]
        print(f"{path}: the same prefix counts both ways (first 50 messages)")
        for name, secs in results.items():
            extra = "" if secs is base else f"  ({(secs - base) * 1000:.0f} ms over the parse)"
            print(f"{name:40s} {secs * 1000:7.1f} ms{extra}")


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    main()
