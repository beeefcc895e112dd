"""Store the evidence behind each claim so the summary views stay fast.

``v_evidence_links_live`` applies the rules (docs/evidence-levels.md) to the tables as they
are; ``refresh`` writes its result into ``evidence_links``, which ``v_claim_evidence``,
``v_claim_summary`` and ``v_claim_trend`` read. Re-joining every link with its record, tags,
direction and MeSH headings on each dashboard query costs seconds at a million records; the
stored table answers in a fraction of that (``make bench``).

Run it after tagging and before publishing a snapshot. ``v_evidence_status.is_current`` turns
false when the tables change after a refresh.
"""
from __future__ import annotations

from datetime import datetime, timezone

import duckdb


def refresh(con: duckdb.DuckDBPyConnection) -> int:
    """Recompute ``evidence_links`` in one transaction; returns the number of links."""
    con.execute("BEGIN")
    try:
        con.execute("CREATE OR REPLACE TABLE evidence_links AS "
                    "SELECT * FROM v_evidence_links_live ORDER BY claim_id, pmid")
        (fingerprint,), = con.execute("SELECT fingerprint FROM v_evidence_status").fetchall()
        (n_links,), = con.execute("SELECT count(*) FROM evidence_links").fetchall()
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        con.execute(
            "INSERT OR REPLACE INTO store_meta "
            "SELECT 'evidence_fingerprint', ? UNION ALL "
            "SELECT 'evidence_refreshed_at', ? UNION ALL "
            "SELECT 'evidence_tagger_version', "
            "(SELECT value FROM store_meta WHERE key = 'tagger_version')",
            [fingerprint, stamp])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return n_links
