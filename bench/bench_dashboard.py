"""Dashboard server-side time on the synthetic store of ``bench/synthetic.py`` (1,000,000 records).

Each page is timed as a whole script run under Streamlit's ``AppTest`` (data, widgets, charts;
what the server spends before the browser has the page), and its data functions alone
(``dashboards.data``, each opening the store read-only), in two states:

- cold: caches empty, as for the first visitor after a refresh publishes a new store;
- claim cold: another claim opened first, so the store-wide reads every page shares (store
  state, the all-claims summary) are cached and the process has drawn charts before, but the
  claim's own evidence is not cached: what opening any further claim costs on a live server.

The claim detail is timed on the claim with the most records (the worst case) and on the
median claim. Targets: overview <= 1 s cold; claim detail <= 300 ms (worst case, claim cold).

    python -m bench.bench_dashboard [--records N] [--repeat K] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import synthetic
from bench.common import REPO, verdict

OVERVIEW_TARGET_S = 1.0
CLAIM_TARGET_S = 0.3


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _claims_by_size(path: Path) -> tuple[tuple[str, int], tuple[str, int]]:
    from pipeline import readonly
    con = readonly.connect(path)
    try:
        rows = con.execute("SELECT claim_id, count(*) FROM v_claim_evidence "
                           "GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    finally:
        con.close()
    return rows[0], rows[len(rows) // 2]


class Pages:
    """Times whole page runs through AppTest against the synthetic store."""

    def __init__(self, snapshot: Path):
        sys.path.insert(0, str(REPO))
        import streamlit as st
        from streamlit.testing.v1 import AppTest
        self.st, self.AppTest = st, AppTest
        # The pages find the store through pipeline.config; point it at the synthetic one.
        os.environ["KETAMINE_STORE"] = str(snapshot).replace(".snapshot.duckdb", ".duckdb")

    def _open(self, page: str, **params):
        """A session on ``page``; its first run (AppTest's own set-up: the mock runtime,
        component discovery, page registration) is done here, outside any timing."""
        at = self.AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=600)
        at.run()
        at.switch_page(f"app_pages/{page}.py")
        at.query_params.update(params)
        return at

    def time(self, page: str, *, warm_first: tuple[str, dict] | None = None, **params) -> float:
        """One run of ``page`` after emptying the caches and, if ``warm_first`` is given, opening
        that (page, params) first in another session."""
        at = self._open(page, **params)
        self.st.cache_data.clear()
        if warm_first:
            self._open(warm_first[0], **warm_first[1]).run()
        t0 = time.perf_counter()
        at.run()
        elapsed = time.perf_counter() - t0
        if at.exception:
            raise RuntimeError(f"{page} raised: {at.exception[0].value}")
        return elapsed


def run(records: int, repeat: int) -> dict:
    from dashboards import data
    # The dashboard reads ``<store>.snapshot.duckdb``; the bench keeps a synthetic store of its
    # own under that name, clear of other benchmarks writing theirs.
    snapshot = synthetic.cached(records, Path(tempfile.gettempdir()) / "ketamine-bench"
                                / f"dashboard-{records}.snapshot.duckdb")
    (largest, n_largest), (median, n_median) = _claims_by_size(snapshot)
    shared = lambda: (data.store_state(snapshot), data.summaries(snapshot))  # noqa: E731
    out = {"records": records, "repeat": repeat,
           "largest_claim": largest, "largest_claim_records": n_largest,
           "median_claim": median, "median_claim_records": n_median,
           "data_shared_s": _median_time(shared, repeat),
           "data_overview_bars_s": _median_time(lambda: data.overview_bars(snapshot), repeat),
           "data_claim_largest_s": _median_time(lambda: data.claim_evidence(snapshot, largest), repeat),
           "data_claim_median_s": _median_time(lambda: data.claim_evidence(snapshot, median), repeat),
           "data_search_s": _median_time(lambda: data.search(snapshot, data.Search(text="depression")),
                                         repeat)}
    pages = Pages(snapshot)
    runs = {
        "page_overview_cold_s": lambda: pages.time("overview"),
        "page_claim_largest_cold_s": lambda: pages.time("claim", claim=largest),
        "page_claim_largest_claim_cold_s": lambda: pages.time(
            "claim", warm_first=("claim", {"claim": median}), claim=largest),
        "page_claim_median_claim_cold_s": lambda: pages.time(
            "claim", warm_first=("claim", {"claim": largest}), claim=median),
    }
    for key, fn in runs.items():
        out[key] = statistics.median(fn() for _ in range(repeat))
    out["load_average_1min"] = os.getloadavg()[0]  # timings on a shared machine need it
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    r = run(args.records, args.repeat)
    if args.json:
        print(json.dumps(r))
        return r
    ms = lambda s: f"{s * 1000:,.0f} ms"  # noqa: E731
    print(f"dashboard server-side time, synthetic store of {r['records']:,} records "
          f"(median of {r['repeat']}; load average {r['load_average_1min']:.1f} "
          f"on {os.cpu_count()} cores):")
    print(f"  overview, cold: page {ms(r['page_overview_cold_s'])} "
          f"[target <= 1 s: {verdict(r['page_overview_cold_s'], OVERVIEW_TARGET_S, higher_is_better=False)}]"
          f"  (data: store state + all-claims summary {ms(r['data_shared_s'])}, "
          f"bars {ms(r['data_overview_bars_s'])})")
    print(f"  claim detail, largest claim ({r['largest_claim_records']:,} records), claim cold: "
          f"page {ms(r['page_claim_largest_claim_cold_s'])} [target <= 300 ms: "
          f"{verdict(r['page_claim_largest_claim_cold_s'], CLAIM_TARGET_S, higher_is_better=False)}]"
          f"  (data {ms(r['data_claim_largest_s'])})")
    print(f"  claim detail, median claim ({r['median_claim_records']:,} records), claim cold: "
          f"page {ms(r['page_claim_median_claim_cold_s'])}  (data {ms(r['data_claim_median_s'])})")
    print(f"  claim detail, largest claim, fully cold (first page after a publish): "
          f"page {ms(r['page_claim_largest_cold_s'])}")
    print(f"  explorer search 'depression': data {ms(r['data_search_s'])}")
    return r


if __name__ == "__main__":
    main()
