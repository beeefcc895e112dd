"""The `tag` command's file interface: one JSON object per input line, one per output line.

Input keys: `id` (required), `title`, `abstract`, and optionally `pmid`, `publication_types`
(names), `mesh` (descriptor names), `indexing_method`, `claim` (a claim sentence about any
intervention). A line that is not a JSON object with an `id`, or whose `claim` is not one sentence
of text, is reported on `errors` with its line number and skipped; the run goes on. Missing or unreadable text is not an error: it is tagged `other`/`unknown`/`unclear`.
"""
from __future__ import annotations

import json
import sys

from . import TAGGER_VERSION, tag_record
from .claim_text import claim_from_text

MAX_LINE_CHARS = 16_000_000
# A claim is one sentence; a page of text in its place is a mistake in the input, and its
# outcome words would make every sentence of the abstract look relevant.
MAX_CLAIM_CHARS = 1_000


def tag_line(obj: dict) -> dict:
    claim_text = obj.get("claim")
    claims = [claim_from_text(claim_text)] if claim_text and claim_text.strip() else []
    tags = tag_record(obj, claims)
    out = {
        "id": obj["id"],
        "design": tags["design"],
        "population": tags["population"],
        "sample_size": tags["sample_size"],
        "sample_size_text": tags["sample_size_text"],
        "confidence": tags["design_confidence"],
        "source": tags["design_source"],
        "population_source": tags["population_source"],
        "tagger_version": TAGGER_VERSION,
    }
    if claims:
        found = tags["directions"][0]
        out.update(direction=found["direction"], evidence_sentence=found["evidence_sentence"],
                   direction_confidence=found["confidence"])
    return out


def _problem(line: str) -> tuple[dict | None, str | None]:
    if len(line) > MAX_LINE_CHARS:
        return None, f"line longer than {MAX_LINE_CHARS:,} characters"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(obj, dict):
        return None, f"expected a JSON object, got {type(obj).__name__}"
    if obj.get("id") in (None, ""):
        return None, "missing field 'id'"
    if not isinstance(obj["id"], (str, int)):
        return None, f"field 'id' must be a string or integer, got {type(obj['id']).__name__}"
    claim = obj.get("claim")
    if claim is not None and not isinstance(claim, str):
        return None, f"id {obj['id']!r}: field 'claim' must be a string (one claim sentence), got {type(claim).__name__}"
    if isinstance(claim, str) and len(claim) > MAX_CLAIM_CHARS:
        return None, (f"id {obj['id']!r}: field 'claim' is {len(claim):,} characters; a claim is one sentence "
                      f"(at most {MAX_CLAIM_CHARS:,})")
    return obj, None


def run(in_path, out_path, errors=sys.stderr) -> tuple[int, int]:
    """Tag every line of `in_path` into `out_path`; returns (lines tagged, lines reported)."""
    n_ok = n_bad = 0
    with open(in_path, encoding="utf-8", errors="replace") as src, open(out_path, "w", encoding="utf-8") as dst:
        for lineno, line in enumerate(src, start=1):
            if not line.strip():
                continue
            obj, problem = _problem(line)
            if problem is None:
                try:
                    dst.write(json.dumps(tag_line(obj), ensure_ascii=False) + "\n")
                    n_ok += 1
                    continue
                except (TypeError, ValueError, AttributeError) as exc:
                    problem = f"id {obj.get('id')!r}: could not be tagged ({type(exc).__name__}: {exc})"
            print(f"{in_path}: line {lineno}: {problem}", file=errors)
            n_bad += 1
    return n_ok, n_bad
