"""Tagging throughput on one core, over real records: target ≥ 2,000 records/s.

Records come from the parsed 2020–21 daily update file in ../shared when present (20,788 real
records, most unindexed, so the text models do the work), else from the repo's tagger fixtures.
Parsing is done before the clock starts; the figure is `tag_record` alone, first without claims
and then with every registry claim linked to every record (the worst case for direction).
"""
from __future__ import annotations

import argparse
import json
import os
import time

from bench.common import REPO, shared_dir, verdict

TARGET = 2000.0
FIXTURES = REPO / "tests" / "fixtures" / "tag" / "records.jsonl"


def load_records(limit: int | None) -> tuple[list[dict], str]:
    shared = shared_dir()
    update = shared / "pubmed" / "baseline" / "pubmed21n1298.xml.gz" if shared else None
    if update is not None and update.exists():
        from pipeline.parse import iter_pubmed

        records = []
        for event in iter_pubmed(update):
            if event.get("kind") == "article":
                records.append(event)
                if limit and len(records) >= limit:
                    break
        return records, f"{update.name} ({len(records):,} records)"
    records = [json.loads(line) for line in FIXTURES.read_text().splitlines() if line.strip()]
    return records, f"repo fixtures ({len(records)} records, repeated)"


def claims() -> list:
    try:
        from pipeline.claims import load_registry

        return load_registry()
    except Exception as exc:  # the registry is optional for this benchmark
        print(f"  (no claims registry: {exc}; direction timed with one claim sentence)")
        return ["ketamine reduces depressive symptoms"]


def rate(records: list[dict], linked: list, min_records: int = 2000) -> float:
    from pipeline.tag import tag_record

    batch = records
    while len(batch) < min_records:
        batch = batch + records
    tag_record(batch[0], linked)  # load models before the clock starts
    start = time.process_time()
    for rec in batch:
        tag_record(rec, linked)
    return len(batch) / (time.process_time() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_tag", description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="tag at most this many records")
    args = parser.parse_args(argv)
    records, where = load_records(args.limit)
    pinned = hasattr(os, "sched_setaffinity")
    if pinned:  # one core, as the target says; restored so later benchmarks get both
        cores = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(cores)})
    try:
        print(f"tagging throughput, one core, over {where}")
        plain = rate(records, [])
        print(f"  no claims:            {plain:8,.0f} records/s  (target ≥ {TARGET:,.0f})  {verdict(plain, TARGET, higher_is_better=True)}")
        linked = claims()
        with_claims = rate(records[: max(1, len(records) // 20)], linked, min_records=500)
        print(f"  {len(linked)} claims per record: {with_claims:8,.0f} records/s  (no target: every claim on every record)")
    finally:
        if pinned:
            os.sched_setaffinity(0, cores)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
