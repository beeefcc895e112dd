"""The `tag` JSONL interface: real records in, one tagged line out per good line, bad lines named."""
from __future__ import annotations

import io
import json
from pathlib import Path

from pipeline.tag import TAGGER_VERSION
from pipeline.tag.jsonl import run

FIXTURES = Path(__file__).parent / "fixtures" / "tag" / "records.jsonl"
RECORDS = {r["pmid"]: r for r in map(json.loads, FIXTURES.read_text(encoding="utf-8").splitlines())}


def line_for(pmid: int, **extra) -> str:
    rec = RECORDS[pmid]
    return json.dumps({"id": f"r{pmid}", "pmid": pmid, "title": rec["title"], "abstract": rec["abstract"],
                       "publication_types": [p["name"] for p in rec["publication_types"]],
                       "mesh": [m["descriptor"] for m in rec["mesh"]],
                       "indexing_method": rec["indexing_method"], **extra})


def run_lines(tmp_path, lines: list[str]):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = io.StringIO()
    counts = run(src, dst, errors=errors)
    out = [json.loads(x) for x in dst.read_text(encoding="utf-8").splitlines()]
    return counts, out, errors.getvalue()


def test_good_lines_are_tagged_with_every_field(tmp_path):
    (n_ok, n_bad), out, errors = run_lines(tmp_path, [
        line_for(32687801), line_for(34092024, claim="Ketamine causes cystitis")])
    assert (n_ok, n_bad, errors) == (2, 0, "")
    first, second = out
    assert first["id"] == "r32687801" and first["design"] == "rct" and first["source"] == "indexer"
    assert set(first) >= {"id", "design", "population", "sample_size", "confidence", "source", "tagger_version"}
    assert first["tagger_version"] == TAGGER_VERSION and "direction" not in first
    assert second["direction"] == "no_effect" and "cystitis" in second["evidence_sentence"]


def test_bad_lines_are_reported_by_number_and_the_run_goes_on(tmp_path):
    lines = [
        line_for(409052),
        '{"id": "broken", "title": "Ketamine',  # truncated JSON
        '["a", "list"]',
        json.dumps({"title": "no id here", "abstract": ""}),
        "",
        json.dumps({"id": "t1", "title": None, "abstract": None}),  # missing text: tagged, not an error
        line_for(33962333),
    ]
    (n_ok, n_bad), out, errors = run_lines(tmp_path, lines)
    assert (n_ok, n_bad) == (3, 3)
    assert [o["id"] for o in out] == ["r409052", "t1", "r33962333"]
    reported = errors.splitlines()
    assert [line.split(": ")[1] for line in reported] == ["line 2", "line 3", "line 4"]
    assert "not valid JSON" in reported[0] and "expected a JSON object" in reported[1]
    assert "missing field 'id'" in reported[2]
    assert out[1]["design"] == "other" and out[1]["population"] == "unknown" and out[1]["confidence"] == 0.0


def test_missing_abstract_with_claim_is_unclear(tmp_path):
    (n_ok, _), out, _ = run_lines(tmp_path, [json.dumps({"id": 7, "title": "", "claim": "ketamine causes nausea"})])
    assert n_ok == 1 and out[0]["direction"] == "unclear" and out[0]["evidence_sentence"] is None


def test_a_claim_that_is_not_one_sentence_is_reported(tmp_path):
    lines = [line_for(409052, claim=["ketamine", "reduces pain"]), line_for(409052, claim="ketamine reduces " * 100),
             line_for(409052, claim="Ketamine reduces pain")]
    (n_ok, n_bad), out, errors = run_lines(tmp_path, lines)
    assert (n_ok, n_bad) == (1, 2) and out[0]["direction"] in ("supports", "contradicts", "no_effect", "mixed",
                                                                  "unclear")
    first, second = errors.splitlines()
    assert "line 1" in first and "'r409052'" in first and "field 'claim' must be a string" in first
    assert "line 2" in second and "1,700 characters" in second
