"""Throughput and peak memory of pipeline.parse against other ways to read PubMed XML.

Reads the 2021 NLM update file (233 MB of XML, 20,788 records) from the shared data folder,
located by KETAMINE_SHARED_DIR (default: the repository's sibling ``../shared``, see
bench/common.py); without it the benchmark prints a skip line and exits 0. Every measurement runs in a child process of its own,
so each peak RSS (the child's ru_maxrss) belongs to one parser. The file is gunzipped once to a
temporary file first, so decompression does not blur the comparison; pubmed_parser only reads
gzip, so it gets a store-only (level 0) gzip copy, which costs a CRC and a copy, not inflation.

    python -m bench.bench_parse [--repeat N] [--json] [--file PATH.xml.gz] [--skip-slow]

Exit status is 0 whatever the figures; the PASS/FAIL lines are for reading.
"""
from __future__ import annotations

import argparse
import gzip
import importlib
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import REPO, shared_dir, verdict

UPDATE_FILE = Path("pubmed") / "baseline" / "pubmed21n1298.xml.gz"
TIME_TARGET = 1.2  # pipeline.parse may take at most this multiple of the bare iterparse pass
RSS_TARGET_MB = 150
CHILD_TIMEOUT_S = 1800

PARSERS = {
    "pipeline.parse": "pipeline.parse.iter_pubmed (every record-format field; records split at their end "
                      "tags, unread parts cut out, each built by libxml2 alone)",
    "bare-iterparse": "lxml.etree.iterparse on record tags, clear + drop siblings, nothing read",
    "pubmed_parser": "pubmed_parser.parse_medline_xml(year_info_only=False, author_list=True)",
    "Bio.Entrez.read": "Bio.Entrez.read: the whole file into one in-memory structure",
}
SLOW = ("pubmed_parser", "Bio.Entrez.read")


# ---------------------------------------------------------------- child side


def _count_pipeline(path: str) -> int:
    from pipeline.parse import iter_pubmed

    return sum(1 for _ in iter_pubmed(path))


def _count_bare(path: str) -> int:
    from lxml import etree

    count = 0
    tags = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation")
    with open(path, "rb") as handle:
        for _, el in etree.iterparse(handle, events=("end",), tag=tags):
            count += 1
            el.clear()
            parent = el.getparent()
            while el.getprevious() is not None:
                del parent[0]
    return count


def _count_pubmed_parser(path: str) -> int:
    import pubmed_parser

    records = pubmed_parser.parse_medline_xml(path, year_info_only=False, author_list=True)
    return sum(1 for _ in records)


def _count_entrez(path: str) -> int:
    from Bio import Entrez

    with open(path, "rb") as handle:
        result = Entrez.read(handle)
    # DeleteCitation comes back as its list of PMIDs; it counts as one event, as in ours.
    return len(result["PubmedArticle"]) + len(result["PubmedBookArticle"]) + bool(result["DeleteCitation"])


CHILDREN = {
    "pipeline.parse": _count_pipeline,
    "bare-iterparse": _count_bare,
    "pubmed_parser": _count_pubmed_parser,
    "Bio.Entrez.read": _count_entrez,
}


# What each parser imports, done before the clock starts: the figures are for reading the file.
MODULES = {
    "pipeline.parse": "pipeline.parse",
    "bare-iterparse": "lxml.etree",
    "pubmed_parser": "pubmed_parser",
    "Bio.Entrez.read": "Bio.Entrez",
}


def _child(name: str, path: str) -> None:
    importlib.import_module(MODULES[name])
    wall, cpu = time.perf_counter(), time.process_time()
    records = CHILDREN[name](path)
    figures = {
        "records": records,
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(figures))


# ---------------------------------------------------------------- parent side


def _measure(name: str, path: Path) -> dict:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.bench_parse", "--child", name, str(path)],
            cwd=REPO, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {CHILD_TIMEOUT_S} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _prepare(source: Path, workdir: Path) -> tuple[Path, Path]:
    plain = workdir / "pubmed.xml"
    stored = workdir / "pubmed-stored.xml.gz"
    with gzip.open(source, "rb") as src, open(plain, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    with open(plain, "rb") as src, gzip.open(stored, "wb", compresslevel=0) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return plain, stored


def _best(runs: list[dict]) -> dict:
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[-1]
    best = dict(min(good, key=lambda r: r["seconds"]))
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in good)
    best["runs"] = len(good)
    best["all_seconds"] = [round(r["seconds"], 2) for r in good]
    return best


def _report(results: dict, source: Path, size_mb: float) -> None:
    bare = results["bare-iterparse"].get("seconds")
    print(f"file: {source} ({size_mb:.0f} MB of XML, gunzipped once beforehand)")
    print(f"{'parser':<17} {'records':>8} {'seconds':>8} {'cpu s':>7} {'rec/s':>8} {'× bare':>7} {'peak RSS MB':>12}")
    for name, figures in results.items():
        if "error" in figures:
            print(f"{name:<17} {'—':>8} error: {figures['error']}")
            continue
        ratio = figures["seconds"] / bare if bare else float("nan")
        print(
            f"{name:<17} {figures['records']:>8} {figures['seconds']:>8.2f} {figures['cpu_seconds']:>7.2f} "
            f"{figures['records'] / figures['seconds']:>8.0f} {ratio:>7.2f} {figures['peak_rss_mb']:>12.1f}"
        )
    for name, what in PARSERS.items():
        if name in results:
            print(f"  {name}: {what}")
    ours = results["pipeline.parse"]
    if "error" in ours or not bare:
        print("FAIL  pipeline.parse or the bare pass did not finish")
        return
    ratio = ours["seconds"] / bare
    cpu_ratio = ours["cpu_seconds"] / results["bare-iterparse"]["cpu_seconds"]
    print(f"{verdict(ratio, TIME_TARGET, higher_is_better=False)}  time: {ratio:.2f}× bare iterparse "
          f"(target ≤ {TIME_TARGET}×; best of {ours['runs']} interleaved runs each; CPU time {cpu_ratio:.2f}×)")
    # Every run, so the spread that other load on the machine causes is on record too.
    runs = {name: results[name]["all_seconds"] for name in ("pipeline.parse", "bare-iterparse")}
    for name, seconds in runs.items():
        print(f"      {name} runs, s: {', '.join(f'{t:.2f}' for t in seconds)}")
    print(f"      ratio of the medians: "
          f"{statistics.median(runs['pipeline.parse']) / statistics.median(runs['bare-iterparse']):.2f}×")
    rss = ours["peak_rss_mb"]
    print(f"{verdict(rss, RSS_TARGET_MB, higher_is_better=False)}  peak RSS: {rss:.0f} MB "
          f"(target ≤ {RSS_TARGET_MB} MB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of each fast parser, interleaved; the best time of each is kept, "
                             "the figure least blurred by other load on a shared machine")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object instead of a table")
    parser.add_argument("--file", type=Path, help="a gzipped PubmedArticleSet (default: the 2021 update file)")
    parser.add_argument("--skip-slow", action="store_true", help="leave out pubmed_parser and Bio.Entrez")
    parser.add_argument("--child", nargs=2, metavar=("PARSER", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0

    shared = shared_dir()
    source = args.file or (shared / UPDATE_FILE if shared else None)
    if source is None or not source.exists():
        print(f"skip: bench_parse needs {source or '../shared/' + str(UPDATE_FILE)} (set KETAMINE_SHARED_DIR)")
        return 0
    with tempfile.TemporaryDirectory(prefix="bench_parse_") as tmp:
        plain, stored = _prepare(source, Path(tmp))
        size_mb = plain.stat().st_size / 1e6
        results: dict[str, dict] = {"pipeline.parse": [], "bare-iterparse": []}
        for _ in range(max(1, args.repeat)):
            # Interleaved, so a burst of load on the machine hits both alike.
            for name in ("bare-iterparse", "pipeline.parse"):
                results[name].append(_measure(name, plain))
        results = {name: _best(runs) for name, runs in results.items()}
        if not args.skip_slow:
            results["pubmed_parser"] = _measure("pubmed_parser", stored)
            results["Bio.Entrez.read"] = _measure("Bio.Entrez.read", plain)
    if args.json:
        bare = results["bare-iterparse"].get("seconds")
        for figures in results.values():
            if "seconds" in figures and bare:
                figures["ratio_to_bare"] = figures["seconds"] / bare
        print(json.dumps({"file": str(source), "xml_mb": size_mb, "results": results}, indent=2))
    else:
        _report(results, source, size_mb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
