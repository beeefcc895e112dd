"""Tagging throughput on one core, over real records: target ≥ 2,000 records/s.

Records come from the parsed 2020–21 daily update file in ../shared when present (20,788 real
records, most unindexed, so the text models do the work), else from the repo's tagger fixtures.
Parsing is done before the clock starts. Rows:
- `tag_record` without claims, and with one registry claim per record (claims taken in turn: most
  records never name the claim's outcome, as with the records a broad search links to a claim);
- with one claim per record whose outcome the record names, the costliest case per link;
- with every registry claim on every record (the worst case, no target);
- the `tag --input` file interface, reading and writing JSON lines, without and with a claim
  sentence on each line.
Each figure is the best of five passes, as a loaded machine only ever slows a pass down (with
three, two runs of the same tree differed by up to a sixth on the shared 2-core machine).
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def _best_rate(n: int, run, passes: int = 5) -> float:
    best = 0.0
    for _ in range(passes):
        start = time.process_time()
        run()
        best = max(best, n / (time.process_time() - start))
    return best


def _repeated(items: list, at_least: int) -> list:
    batch = items
    while len(batch) < at_least:
        batch = batch + items
    return batch


def rate(records: list[dict], linked: list, min_records: int = 2000, passes: int = 5) -> float:
    """Records/s with every claim of `linked` on every record."""
    from pipeline.tag import tag_record

    batch = _repeated(records, min_records)
    tag_record(batch[0], linked)  # load models before the clock starts
    return _best_rate(len(batch), lambda: [tag_record(rec, linked) for rec in batch], passes)


def rate_pairs(pairs: list[tuple[dict, list]], min_records: int = 2000) -> float:
    """Records/s over (record, its claims) pairs."""
    from pipeline.tag import tag_record

    batch = _repeated(pairs, min_records)
    tag_record(*batch[0])  # load models before the clock starts
    return _best_rate(len(batch), lambda: [tag_record(rec, linked) for rec, linked in batch])


def one_claim_each(records: list[dict], linked: list, naming_outcome: bool) -> list[tuple[dict, list]]:
    """Each record with one claim: the next in turn, or the next whose outcome it names (records
    naming none are left out)."""
    from pipeline.tag.direction import prepare
    from pipeline.tag.text import from_record

    if not naming_outcome:
        return [(rec, [linked[i % len(linked)]]) for i, rec in enumerate(records)]
    prepared = [prepare(claim) for claim in linked]
    pairs = []
    for i, rec in enumerate(records):
        text = from_record(rec).text
        for k in range(len(linked)):
            j = (i + k) % len(linked)
            if prepared[j].matcher is not None and prepared[j].matcher.search(text):
                pairs.append((rec, [linked[j]]))
                break
    return pairs


def rate_jsonl(records: list[dict], linked: list, with_claim: bool, min_records: int = 2000) -> float:
    """Lines/s through `tag --input` (pipeline.tag.jsonl.run), from a JSONL file of the records."""
    from pipeline.tag import jsonl

    statements = [getattr(c, "statement", c) for c in linked]
    batch = _repeated(records, min_records)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        with open(src, "w", encoding="utf-8") as out:
            for i, rec in enumerate(batch):
                line = {"id": i, "title": rec.get("title"), "abstract": rec.get("abstract"),
                        "publication_types": [p.get("name") for p in rec.get("publication_types") or []],
                        "mesh": [m.get("descriptor") for m in rec.get("mesh") or []],
                        "indexing_method": rec.get("indexing_method")}
                if with_claim:
                    line["claim"] = statements[i % len(statements)]
                out.write(json.dumps(line) + "\n")
        jsonl.run(src, dst)  # models and claim parses warm, as in a long run
        return _best_rate(len(batch), lambda: jsonl.run(src, dst))


# Tags pickled records with whichever `pipeline` is first on the path, one JSON line per record.
_DUMP = """
import json, pickle, sys
from pipeline.tag import tag_record
records, linked, every = pickle.load(open(sys.argv[1], "rb"))
with open(sys.argv[2], "w") as out:
    for i, rec in enumerate(records):
        out.write(json.dumps(tag_record(rec, linked if i % every == 0 else None), sort_keys=True) + "\\n")
"""


def same_as(rev: str, claims_every: int = 10, hash_seed: str = "0") -> int:
    """Tag every record of both shared PubMed files with this tree's tagger and with `rev`'s and
    count records whose tags differ: a speed change must not change a single output.

    Both run with one PYTHONHASHSEED because a record's weight rows are summed in token-hash
    order, and a different order can move the last bits of a probability.
    """
    shared = shared_dir()
    if shared is None:
        print("  ../shared not found: nothing to compare")
        return 2
    from pipeline.parse import iter_pubmed

    linked = claims()
    differing = compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        old_tree = tmp / "old"
        old_tree.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "pipeline"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
        for name in ("pubmed21n1298.xml.gz", "pubmed20n0014.xml.gz"):
            path = shared / "pubmed" / "baseline" / name
            records = [e for e in iter_pubmed(path) if e.get("kind") == "article"]
            batch = tmp / "records.pkl"
            batch.write_bytes(pickle.dumps((records, linked, claims_every)))
            outputs = []
            for tree in (old_tree, REPO):
                out = tmp / f"{tree.name}.jsonl"
                env = dict(os.environ, PYTHONPATH=str(tree), PYTHONHASHSEED=hash_seed)
                subprocess.run([sys.executable, "-c", _DUMP, str(batch), str(out)], env=env, cwd=tree,
                               check=True)
                outputs.append(out.read_text().splitlines())
            old, new = outputs
            bad = [i for i, (a, b) in enumerate(zip(old, new)) if a != b] + \
                list(range(min(len(old), len(new)), max(len(old), len(new))))
            print(f"  {name}: {len(records):,} records ({len(records[::claims_every]):,} with "
                  f"{len(linked)} claims each), {len(bad)} differ" + (f", first at record {bad[0]}" if bad else ""))
            differing += len(bad)
            compared += len(records)
    print(f"  {compared:,} records compared against {rev}: {'identical' if not differing else f'{differing} differ'}")
    return 1 if differing else 0


def row(label: str, value: float, target: bool = True) -> None:
    verdict_text = f"  (target ≥ {TARGET:,.0f})  {verdict(value, TARGET, higher_is_better=True)}" if target else ""
    print(f"  {label:<40} {value:8,.0f} records/s{verdict_text}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_tag", description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="tag at most this many records")
    parser.add_argument("--same-as", metavar="REV", help="instead of timing, check that this tree tags every "
                        "shared record exactly as git revision REV does")
    parser.add_argument("--hash-seed", default="0", help="PYTHONHASHSEED for both sides of --same-as")
    parser.add_argument("--claims-every", type=int, default=10, metavar="N",
                        help="with --same-as, link every registry claim to every Nth record")
    args = parser.parse_args(argv)
    if args.same_as:
        return same_as(args.same_as, claims_every=args.claims_every, hash_seed=args.hash_seed)
    records, where = load_records(args.limit)
    pinned = hasattr(os, "sched_setaffinity")
    if pinned:  # one core, as the target says; restored so later benchmarks get both
        cores = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(cores)})
    try:
        print(f"tagging throughput, one core, over {where}")
        linked = claims()
        row("no claims", rate(records, []))
        row("one claim per record", rate_pairs(one_claim_each(records, linked, naming_outcome=False)))
        naming = one_claim_each(records, linked, naming_outcome=True)
        row(f"one claim it names ({len(naming):,} records)", rate_pairs(naming, min_records=500), target=False)
        row(f"{len(linked)} claims per record", rate(records[:300], linked, min_records=300), target=False)
        row("tag --input, no claims", rate_jsonl(records, linked, with_claim=False))
        row("tag --input, a claim sentence per line", rate_jsonl(records, linked, with_claim=True))
    finally:
        if pinned:
            os.sched_setaffinity(0, cores)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
