"""What the twin promises beyond what the client tests already exercise: NCBI's response shapes,
the retrieval cap and paging, verbatim records, arriving and revised records, fault scripts."""
import gzip
import re
from datetime import date

import pytest
import requests
from lxml import etree

from pipeline.parse import iter_pubmed
from twin import FIXTURES


def get(twin, endpoint, **params):
    resp = requests.get(f"{twin.base_url}{endpoint}.fcgi", params={"db": "pubmed", **params}, timeout=5)
    return resp.status_code, resp.content


def children(body):
    return [el.tag for el in etree.fromstring(body)]


def test_corpus_is_real_varied_and_parses_completely(twin_corpus):
    on_disk = sum(sum(1 for _ in iter_pubmed(p)) for p in FIXTURES.glob("*.xml.gz"))
    assert len(twin_corpus.records) == on_disk >= 900
    days = {r.record["entrez_date"] for r in twin_corpus.records.values()}
    statuses = {r.record["citation_status"] for r in twin_corpus.records.values()}
    assert len(days) > 300 and {"MEDLINE", "Publisher", "In-Process"} <= statuses


def test_esearch_shapes_follow_ncbi(twin):
    status, body = get(twin, "esearch", term="ketamine", retmax="3")
    assert status == 200
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult')
    assert children(body) == ["Count", "RetMax", "RetStart", "IdList", "TranslationSet", "QueryTranslation"]
    _, body = get(twin, "esearch", term="ketamine", usehistory="y")
    assert children(body)[3:5] == ["QueryKey", "WebEnv"]
    _, body = get(twin, "esearch", term="qqqzzzx")
    root = etree.fromstring(body)
    assert root.findtext("Count") == "0" and root.findtext("ErrorList/PhraseNotFound") == "qqqzzzx"
    _, body = get(twin, "esearch", term="(ketamine")
    assert children(body) == ["ERROR"]


def test_count_is_true_while_the_id_list_stops_at_the_cap(twin):
    twin.retrieval_cap = 10
    _, body = get(twin, "esearch", term="ketamine", retmax="100")
    root = etree.fromstring(body)
    assert int(root.findtext("Count")) > 10 and len(root.findall("IdList/Id")) == 10
    _, first = get(twin, "esearch", term="ketamine", retmax="4")
    _, second = get(twin, "esearch", term="ketamine", retmax="4", retstart="4")
    ids = [el.text for el in etree.fromstring(first).iterfind("IdList/Id")]
    more = [el.text for el in etree.fromstring(second).iterfind("IdList/Id")]
    assert len(ids) == len(more) == 4 and not set(ids) & set(more)


RECORD = re.compile(rb"<(PubmedArticle|PubmedBookArticle)>.*?</\1>", re.S)


def test_every_record_is_served_byte_for_byte(twin, twin_corpus):
    ids = ",".join(map(str, twin_corpus.records))
    resp = requests.post(f"{twin.base_url}efetch.fcgi", data={"db": "pubmed", "id": ids}, timeout=30)
    on_disk = [m.group(0) for p in sorted(FIXTURES.glob("*.xml.gz"))
               for m in RECORD.finditer(gzip.decompress(p.read_bytes()))]
    assert [m.group(0) for m in RECORD.finditer(resp.content)] == on_disk
    assert twin.requests[0].method == "POST" and twin.requests[0].params["id"] == ids


def test_records_arrive_as_days_pass(twin):
    late = sorted(r.pmid for r in twin.visible() if r.record["entrez_date"] == "2021-06-07")
    twin.advance(date(2021, 6, 6))
    _, body = get(twin, "efetch", id=late[0])
    assert body.endswith(b"<PubmedArticleSet>\n</PubmedArticleSet>\n")  # NCBI's shape for no record
    _, body = get(twin, "esearch", term="2021/06/07[crdt]")
    assert etree.fromstring(body).findtext("Count") == "0"
    twin.advance(date(2021, 6, 7))
    _, body = get(twin, "esearch", term="2021/06/07[crdt]", retmax="500")
    assert sorted(int(i) for i in etree.fromstring(body).xpath("IdList/Id/text()")) == late


def test_revisions_rewrite_the_served_record(twin, twin_corpus):
    original = twin_corpus.records[38011560].raw
    twin.modify([38011560], date(2024, 2, 29))
    _, body = get(twin, "efetch", id="38011560")
    (rec,) = iter_pubmed(body)
    assert rec["date_revised"] == "2024-02-29"
    served = twin.record(38011560).raw
    assert served in body and len(served) == len(original) and served != original
    assert twin_corpus.records[38011560].raw == original  # the shared corpus is untouched
    _, found = get(twin, "esearch", term="ketamine", mindate="2024/02/29", maxdate="2024/02/29",
                   datetype="mdat")
    assert etree.fromstring(found).xpath("IdList/Id/text()") == ["38011560"]


def test_edits_change_what_is_found(twin):
    twin.modify([38011560], date(2024, 3, 1),
                edit=lambda raw: raw.replace(b"neurobiology of depression", b"neurobiology of despair"))
    _, body = get(twin, "esearch", term="despair[ti]")
    assert etree.fromstring(body).xpath("IdList/Id/text()") == ["38011560"]


def test_history_entries_accumulate_on_one_webenv(twin):
    _, body = get(twin, "epost", id="38011560,100000")
    webenv = etree.fromstring(body).findtext("WebEnv")
    _, body = get(twin, "epost", id="401778", WebEnv=webenv)
    assert etree.fromstring(body).findtext("QueryKey") == "2"
    _, body = get(twin, "efetch", WebEnv=webenv, query_key="2")
    assert [e["pmid"] for e in iter_pubmed(body)] == [401778]
    _, body = get(twin, "efetch", WebEnv=webenv, query_key="3")
    assert children(body) == ["ERROR"] and b"<!DOCTYPE eEfetchResult" in body
    _, body = get(twin, "epost", id="")
    assert children(body) == ["ERROR"]


def test_fault_scripts_run_in_order_and_match_endpoints(twin):
    with pytest.raises(ValueError, match="unknown fault"):
        twin.inject("esearch", "teapot")
    twin.inject("*", "503")
    twin.inject("efetch", "429", times=2, retry_after="3")
    assert get(twin, "esearch", term="ketamine")[0] == 503
    assert get(twin, "esearch", term="ketamine")[0] == 200
    resp = requests.get(f"{twin.base_url}efetch.fcgi", params={"id": "38011560"}, timeout=5)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"
    assert [get(twin, "efetch", id="38011560")[0] for _ in range(2)] == [429, 200]
    assert [r.fault for r in twin.requests] == ["503", None, "429", "429", None]
