"""The raw archive: content-addressed, immutable, and a manifest that survives a torn write."""
from __future__ import annotations

import gzip

from pipeline.archive import RawArchive


def test_bodies_are_stored_once_by_content_and_read_back(tmp_path):
    archive = RawArchive(tmp_path)
    body = b"<eSearchResult><Count>0</Count></eSearchResult>"
    first = archive.put(body, endpoint="esearch", params={"term": "ketamine", "api_key": "k"},
                        query_id="q", window=("crdt", "2021-01-01", "2021-01-31"), run_id="r1")
    again = archive.put(body, endpoint="esearch", params={"term": "ketamine"}, run_id="r2")
    assert first.sha256 == again.sha256 and (first.seq, again.seq) == (1, 2)
    assert archive.read(first) == body
    assert gzip.decompress(archive.object_path(first.sha256).read_bytes()) == body
    assert len(list(archive.objects.rglob("*.xml.gz"))) == 1
    entries = list(archive.entries())
    assert [e.run_id for e in entries] == ["r1", "r2"]
    assert "api_key" not in entries[0].params and entries[0].window_type == "crdt"


def test_a_torn_manifest_line_loses_only_itself(tmp_path):
    archive = RawArchive(tmp_path)
    archive.put(b"<a/>", endpoint="efetch", params={})
    with open(archive.manifest, "a") as fh:
        fh.write('{"seq": 2, "sha256": "dead')          # a run killed mid-write
    fresh = RawArchive(tmp_path)
    fresh.put(b"<b/>", endpoint="efetch", params={})
    bodies = [fresh.read(e) for e in fresh.entries()]
    assert bodies == [b"<a/>", b"<b/>"]
