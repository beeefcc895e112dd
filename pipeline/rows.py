"""Parse events → store steps: Arrow tables per curated table, deletions, quarantine rows.

Pure Python and Arrow, no DuckDB: ``pipeline.fetch`` runs ``prepare_body`` in worker processes
for big pulls, and a worker that imports only this, the parser and pyarrow starts in a fraction
of the time one importing the whole pipeline does.
"""
from __future__ import annotations

import gc
import sys
from typing import Iterable

import pyarrow as pa

from . import parse

_ARTICLE_COLS = ("pmid", "pmid_version", "title", "abstract", "journal", "journal_iso", "pub_year",
                 "pub_month", "pub_date_raw", "electronic_date", "entrez_date", "date_revised",
                 "languages", "doi", "pmc", "indexing_method", "citation_status",
                 "publication_status", "keywords", "is_retracted")

_STR = pa.string()
_SCHEMAS = {
    "articles": pa.schema([
        ("pmid", pa.int64()), ("pmid_version", pa.int32()), ("title", _STR), ("abstract", _STR),
        ("journal", _STR), ("journal_iso", _STR), ("pub_year", pa.int32()), ("pub_month", pa.int32()),
        ("pub_date_raw", _STR), ("electronic_date", _STR), ("entrez_date", _STR),
        ("date_revised", _STR), ("languages", pa.list_(_STR)), ("doi", _STR), ("pmc", _STR),
        ("indexing_method", _STR), ("citation_status", _STR), ("publication_status", _STR),
        ("keywords", pa.list_(_STR)), ("is_retracted", pa.bool_())]),
    "authors": pa.schema([("pmid", pa.int64()), ("position", pa.int32()), ("last_name", _STR),
                          ("fore_name", _STR), ("initials", _STR), ("collective_name", _STR),
                          ("affiliations", pa.list_(_STR))]),
    "abstract_section_spans": pa.schema([("pmid", pa.int64()), ("idx", pa.int32()), ("label", _STR),
                                         ("nlm_category", _STR), ("text_start", pa.int32()),
                                         ("text_length", pa.int32())]),
    "publication_types": pa.schema([("pmid", pa.int64()), ("ui", _STR), ("name", _STR)]),
    "mesh_headings": pa.schema([
        ("pmid", pa.int64()), ("position", pa.int32()), ("descriptor_ui", _STR), ("descriptor", _STR),
        ("major", pa.bool_()),
        ("qualifiers", pa.list_(pa.struct([("ui", _STR), ("name", _STR), ("major", pa.bool_())])))]),
    "chemicals": pa.schema([("pmid", pa.int64()), ("ui", _STR), ("name", _STR),
                            ("registry_number", _STR)]),
    "comments_corrections": pa.schema([("pmid", pa.int64()), ("ref_type", _STR),
                                       ("ref_pmid", pa.int64()), ("ref_source", _STR)]),
}


# Child tables: (table, field of the parsed record, columns read from each item); pmid, and
# position where the table has one, are added per record.
_CHILDREN = (
    ("authors", "authors", ("last_name", "fore_name", "initials", "collective_name", "affiliations")),
    ("publication_types", "publication_types", ("ui", "name")),
    ("mesh_headings", "mesh", ("descriptor_ui", "descriptor", "major", "qualifiers")),
    ("chemicals", "chemicals", ("ui", "name", "registry_number")),
    ("comments_corrections", "comments_corrections", ("ref_type", "ref_pmid", "ref_source")),
)
_ITEM_KEY = {"ref_pmid": "pmid"}  # a column named otherwise than its key in the parsed item


def _columns(records: list[dict]) -> dict[str, dict[str, list]]:
    """Column lists per curated table. Built column by column rather than as row dicts, which
    pyarrow would then take apart again: two thirds of the CPU of the row route."""
    out = {name: {f.name: [] for f in schema} for name, schema in _SCHEMAS.items()}
    out["articles"] = {c: [r.get(c) for r in records] for c in _ARTICLE_COLS}
    for table, field, names in _CHILDREN:
        cols = out[table]
        pmids, positions = cols["pmid"], cols.get("position")
        columns = [(cols[name], _ITEM_KEY.get(name, name)) for name in names]
        for r in records:
            items = r.get(field)
            if not items:
                continue
            pmids.extend([r["pmid"]] * len(items))
            if positions is not None:
                positions.extend(range(1, len(items) + 1))
            for column, key in columns:
                column.extend([item.get(key) for item in items])
    spans = out["abstract_section_spans"]
    for r in records:
        # where each section's text sits in the abstract, which joins them one per line as
        # ``LABEL: text`` (pipeline.records): the text itself is stored once, in articles
        at = 0
        for s in r.get("abstract_sections") or ():
            label, length = s["label"], len(s["text"])
            at += len(label) + 2 if label else 0
            spans["pmid"].append(r["pmid"])
            spans["idx"].append(s["idx"])
            spans["label"].append(label)
            spans["nlm_category"].append(s["nlm_category"])
            spans["text_start"].append(at)
            spans["text_length"].append(length)
            at += length + 1
    return out


def revision(r: dict) -> tuple:
    return (r.get("date_revised") or "", r.get("pmid_version") or 1)


def _newest_per_pmid(records: Iterable[dict]) -> list[dict]:
    """Dedupe a batch on PMID. The newest revision wins (latest ``DateRevised``, then highest
    version of a versioned citation); on a tie, the later one in the batch."""
    best: dict[int, dict] = {}
    for r in records:
        old = best.get(r["pmid"])
        if old is None or revision(r) >= revision(old):
            best[r["pmid"]] = r
    return list(best.values())


def article_tables(records: list[dict]) -> dict[str, pa.Table]:
    """Arrow tables, one per curated table, for a batch deduped on PMID. Pure, so it can run
    in a worker process (``pipeline.fetch`` parses big pulls in parallel)."""
    return {name: pa.Table.from_pydict(columns, schema=_SCHEMAS[name])
            for name, columns in _columns(_newest_per_pmid(records)).items()}


def prepare_events(events: Iterable[dict], batch_size: int = 2000) -> list[tuple]:
    """Turn parse events into store steps, in document order: ``("upsert", tables)``,
    ``("delete", pmids)``, ``("quarantine", rows)``. Pure and picklable (see ``article_tables``)."""
    steps: list[tuple] = []
    batch: list[dict] = []
    bad: list[dict] = []

    def flush():
        if batch:
            steps.append(("upsert", article_tables(batch)))
        if bad:
            steps.append(("quarantine", list(bad)))
        batch.clear()
        bad.clear()

    for ev in events:
        kind = ev.get("kind")
        if kind == "article":
            batch.append(ev)
            if len(batch) >= batch_size:
                flush()
        elif kind == "delete":
            flush()  # a deletion must land after the records that preceded it
            steps.append(("delete", ev["pmids"]))
        else:
            bad.append(ev)
    flush()
    return steps


def prepare_body(body: bytes) -> list[tuple]:
    """Parse one EFetch body into store steps (runs in a worker process for big pulls)."""
    return prepare_events(parse.iter_pubmed(body))


class _NoPandas:
    """Refuses ``import pandas`` in a parse worker. pyarrow imports pandas on its first
    conversion only to ask whether the input is a pandas object; that import cost a worker
    0.45 s, more than parsing 1,000 records, and a worker never holds pandas objects."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("parse workers do not use pandas")
        return None


def init_worker() -> None:
    """Initialiser of each parse worker process (``pipeline.fetch``)."""
    if "pandas" not in sys.modules:
        sys.meta_path.insert(0, _NoPandas())
    for schema in _SCHEMAS.values():  # pyarrow's one-off set-up, before a body waits on it
        pa.Table.from_pylist([], schema=schema)
    # A worker's objects die with the body they came from, by reference count. The cyclic
    # collector's passes over each body's hundred thousand dicts cost about 6% of parsing,
    # so they run far less often; the modules' objects are moved out of its sight.
    gc.freeze()
    gc.set_threshold(100_000, 20, 100)


def started() -> None:
    """A no-op task: submitting one per worker makes the pool start them all at once."""
