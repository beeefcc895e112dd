"""Time the evidence views over a synthetic store of a million records (``make bench``).

Targets: the full summary over all claims within 1 s, one claim's drill-down (its best 200
records, the page the dashboard shows) within 300 ms, both through ``pipeline.readonly`` as the
dashboard and ``python -m pipeline sql`` run them (a fresh read-only connection per query).
The claim with the most records is the one drilled into. Each figure is the median of several runs after
one warm-up run. The store is built once and reused (``bench.synthetic.cached``).

    python -m bench.bench_views [--records N] [--runs K] [--path FILE]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from bench import synthetic
from pipeline import evidence, readonly, store

TARGETS = {"summary": 1.0, "drill-down": 0.3}
PAGE = 200  # records a drill-down shows at once (sql/queries/claim_detail.sql pages)


def _median_seconds(fn, runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds (all threads) of ``fn``: CPU time barely moves when
    other work competes for the cores, wall time does."""
    fn()  # warm-up: first read of the file's blocks
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def _time_refresh(path: Path) -> tuple[float, int]:
    con = store.connect(path)
    try:
        t0 = time.perf_counter()
        n = evidence.refresh(con)
        return time.perf_counter() - t0, n
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--path", type=Path, help="synthetic store to build or reuse")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    path = synthetic.cached(args.records, args.path)
    print(f"synthetic store ready in {time.perf_counter() - t0:.1f} s: {path}")
    refresh_s, n_links = _time_refresh(path)
    (claim_id, links), = readonly.run_sql(
        path, "SELECT claim_id, count(*) FROM v_claim_evidence GROUP BY 1 "
              "ORDER BY 2 DESC, 1 LIMIT 1").itertuples(index=False)
    n_claims = len(readonly.run_sql(path, "SELECT claim_id FROM claims"))
    load_before = os.getloadavg()[0]

    def page(limit=PAGE):
        return readonly.run_query(path, "claim_detail", claim_id=claim_id, limit=limit, offset=0)

    figures = {
        "summary": _median_seconds(
            lambda: readonly.run_sql(path, "SELECT * FROM v_claim_summary"), args.runs),
        "drill-down": _median_seconds(page, args.runs),
        "claim page": _median_seconds(lambda: [page()] + [
            readonly.run_query(path, name, claim_id=claim_id)
            for name in ("claim_summary", "claim_counts", "claim_trend")], args.runs),
        "all records": _median_seconds(lambda: page(None), max(1, args.runs // 2)),
    }
    load_after = os.getloadavg()[0]

    print(f"{args.records:,} records, {n_links:,} claim links, {n_claims} claims "
          f"(store {path.stat().st_size / 2**20:,.0f} MiB); medians of {args.runs} runs")
    print(f"  {'refresh evidence_links (write time, after tagging)':<66} {refresh_s:7.1f} s")
    labels = {"summary": f"full summary, all {n_claims} claims (v_claim_summary)",
              "drill-down": f"drill-down: best {PAGE} of {claim_id}'s {links:,} records",
              "claim page": "claim page: its summary, counts, trend and drill-down",
              "all records": f"all {links:,} records of that claim into pandas"}
    print(f"  {'':<66} {'wall':>7}     {'cpu':>7}")
    for key, (seconds, cpu) in figures.items():
        target = TARGETS.get(key)
        verdict = (f"target ≤ {target:g} s: {'met' if seconds <= target else 'MISSED'}"
                   if target else "")
        print(f"  {labels[key]:<66} {seconds * 1000:7.0f} ms  {cpu * 1000:7.0f} ms  {verdict}")
    print(f"  load average {load_before:.1f} → {load_after:.1f} on {os.cpu_count()} cores "
          "(other work on the machine slows every figure)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
