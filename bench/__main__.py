"""``python -m bench``: every benchmark, one after the other, in one run.

Each prints its own figures with the targets beside them. Benchmarks that need ``../shared``
say so and skip when it is absent. The synthetic 1,000,000-record store (marked synthetic in its
``store_meta`` and titles) is generated once into the system's temporary folder and reused by
later runs; it never goes under ``data/``.
"""
from __future__ import annotations

import importlib
import sys
import time

BENCHES = ["bench_parse", "bench_e2e", "bench_tag", "bench_views", "bench_dashboard"]


def main(argv=None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or BENCHES
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        t0 = time.perf_counter()
        module = importlib.import_module(f"bench.{name}")
        module.main([])
        print(f"({name} took {time.perf_counter() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
