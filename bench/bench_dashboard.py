"""Dashboard server-side time on the synthetic store of ``bench/synthetic.py`` (1,000,000 records).

Two figures per page, both cold (what the first visitor after a refresh waits for, since the
cache is keyed on the store version):

- data: the ``dashboards.data`` functions the page calls, each opening the store read-only;
- page: the whole page script under Streamlit's ``AppTest`` (data, widgets, charts), with the
  caches cleared before each run.

The claim detail is timed on the claim with the most records (the worst case) and on the
median claim. Targets: overview <= 1 s, claim detail <= 300 ms (worst case).

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


def _best(fn, repeat: int) -> float:
    """Median of ``repeat`` timed calls: each call is cold for the dashboard (a fresh
    connection, no Streamlit cache), while the OS page cache is warm as on a live server."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _claims_by_size(path: Path) -> tuple[str, str, int, int]:
    import duckdb
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT q.query_id, count(*) FROM query_articles q "
                           "SEMI JOIN claims c ON c.claim_id = q.query_id "
                           "GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    finally:
        con.close()
    largest, median = rows[0], rows[len(rows) // 2]
    return largest[0], median[0], largest[1], median[1]


def _page_timer(snapshot: Path):
    """A function timing one cold run of a dashboard page via AppTest."""
    sys.path.insert(0, str(REPO))
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    # The pages find the store through pipeline.config; point it at the synthetic one.
    os.environ["KETAMINE_STORE"] = str(snapshot).replace(".snapshot.duckdb", ".duckdb")

    def run(page: str, **params) -> float:
        at = AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=600)
        at.run()
        at.switch_page(f"pages/{page}.py")
        at.query_params.update(params)
        st.cache_data.clear()
        t0 = time.perf_counter()
        at.run()
        elapsed = time.perf_counter() - t0
        if at.exception:
            raise RuntimeError(f"{page} raised: {at.exception[0].value}")
        return elapsed
    return run


def run(records: int, repeat: int) -> dict:
    from dashboards import data
    # The dashboard reads ``<store>.snapshot.duckdb``; the bench keeps a synthetic store of its
    # own under that name, clear of other benchmarks writing theirs.
    snapshot = synthetic.cached(records, Path(tempfile.gettempdir()) / "ketamine-bench"
                                / f"dashboard-{records}.snapshot.duckdb")
    largest, median, n_largest, n_median = _claims_by_size(snapshot)

    def claim_detail(claim_id):
        return lambda: (data.store_state(snapshot), data.claim_page(snapshot, claim_id))

    out = {"records": records, "repeat": repeat,
           "largest_claim": largest, "largest_claim_records": n_largest,
           "median_claim": median, "median_claim_records": n_median,
           "data_overview_s": _best(lambda: (data.store_state(snapshot), data.overview(snapshot)), repeat),
           "data_claim_largest_s": _best(claim_detail(largest), repeat),
           "data_claim_median_s": _best(claim_detail(median), repeat),
           "data_search_s": _best(lambda: data.search(snapshot, data.Search(text="depression")), repeat)}
    page = _page_timer(snapshot)
    out["page_overview_s"] = statistics.median(page("overview") for _ in range(repeat))
    out["page_claim_largest_s"] = statistics.median(page("claim", claim=largest) for _ in range(repeat))
    out["page_claim_median_s"] = statistics.median(page("claim", claim=median) for _ in range(repeat))
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
          f"(median of {r['repeat']}, cold cache):")
    print(f"  overview: data {ms(r['data_overview_s'])}, page {ms(r['page_overview_s'])} "
          f"[target <= 1 s: {verdict(r['page_overview_s'], OVERVIEW_TARGET_S, higher_is_better=False)}]")
    print(f"  claim detail, largest claim ({r['largest_claim_records']:,} records): "
          f"data {ms(r['data_claim_largest_s'])}, page {ms(r['page_claim_largest_s'])} "
          f"[target <= 300 ms: {verdict(r['page_claim_largest_s'], CLAIM_TARGET_S, higher_is_better=False)}]")
    print(f"  claim detail, median claim ({r['median_claim_records']:,} records): "
          f"data {ms(r['data_claim_median_s'])}, page {ms(r['page_claim_median_s'])}")
    print(f"  explorer search 'depression': data {ms(r['data_search_s'])}")
    return r


if __name__ == "__main__":
    main()
