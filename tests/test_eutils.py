"""The E-utilities client against the loopback twin: retries, rate limit, windows, verification."""
import io
import os
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
import urllib3

from pipeline import query
from pipeline.eutils import EutilsClient, EutilsError, MissingRecordsError
from pipeline.ratelimit import RateLimiter

REPO = Path(__file__).resolve().parent.parent
FAST = dict(rate_per_second=1000, backoff_initial=0.01, backoff_max=0.05, give_up_seconds=5, timeout=2)


def client_for(config, **overrides):
    return EutilsClient(config, **{**FAST, **overrides})


def truth(twin, term, start=None, end=None, datetype="crdt"):
    """The PMIDs the twin holds for ``term`` (and window), straight from its records."""
    q = term if start is None else f"({term}) AND {start:%Y/%m/%d}:{end:%Y/%m/%d}[{datetype}]"
    return {r.pmid for r in twin.visible() if query.matches(q, r.prepared)}


# ---------------------------------------------------------------- identity and shapes

def test_every_request_identifies_the_tool_and_the_key_stays_out_of_the_archive(twin, twin_config):
    config = twin_config.with_overrides(api_key="test-key-123",
                                        eutils_base_url=twin.base_url.rstrip("/"))
    seen = []
    client = client_for(config, on_response=lambda *args: seen.append(args))
    found = client.esearch("ketamine", retmax=5)
    client.efetch_ids(found["ids"])
    client.epost(found["ids"])
    assert [r.endpoint for r in twin.requests] == ["esearch", "efetch", "epost"]
    for r in twin.requests:
        assert (r.params["tool"], r.params["email"], r.params["api_key"], r.params["db"]) == \
               ("ketamine-evidence-tests", "pipeline-tests@example.org", "test-key-123", "pubmed")
    assert [s[0] for s in seen] == ["esearch", "efetch", "epost"]
    assert all("api_key" not in params for _, params, *_ in seen)
    assert client.requests_made == 3
    assert config.rate_per_second == 10 and twin_config.rate_per_second == 3


def test_no_api_key_param_without_a_key(twin, twin_config):
    client_for(twin_config).esearch("ketamine")
    assert "api_key" not in twin.requests[0].params


def test_esearch_returns_counts_ids_and_translation(twin, twin_config):
    client = client_for(twin_config)
    expected = truth(twin, "ketamine")
    found = client.esearch("ketamine", retmax=1000)
    assert found["count"] == len(expected) and set(found["ids"]) == expected
    assert found["query_translation"] == "ketamine[all]" and found["webenv"] is None
    assert client.esearch("ketamine")["ids"] == []  # retmax=0: count only


def test_phrase_not_found_is_an_ordinary_empty_result(twin, twin_config):
    found = client_for(twin_config).esearch("zzyzxqwv[tiab]")
    assert found["count"] == 0 and found["ids"] == [] and found["not_found"] == ["zzyzxqwv[tiab]"]
    assert len(twin.requests) == 1


def test_malformed_query_is_refused_before_any_request(twin, twin_config):
    with pytest.raises(query.QuerySyntaxError, match="unknown field tag"):
        client_for(twin_config).esearch("ketamine[nonsense]")
    assert twin.requests == []


def test_efetch_bodies_are_the_records_verbatim_and_archived_as_received(twin, twin_config):
    bodies = []
    client = client_for(twin_config, on_response=lambda ep, p, body, status, t: bodies.append(body))
    pmids = [38011560, 20301546, 100000]  # an article, a book chapter, and an old record
    batches = list(client.fetch_ids(pmids))
    assert [b.pmids for b in batches] == [pmids] and bodies == [batches[0].body]
    for pmid in pmids:
        assert twin.record(pmid).raw in batches[0].body
    assert batches[0].body.startswith(b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet')


# ---------------------------------------------------------------- retries

FAULTS = [  # fault, twin options, what the client must have noticed
    ("429", {}, "HTTP 429"), ("500", {}, "HTTP 500: <!DOCTYPE html>"), ("502", {}, "HTTP 502"),
    ("200-error", {}, "NCBI error: Search Backend failed"),
    ("truncate", {"lie": True}, "IncompleteRead"),
    ("truncate", {"lie": False}, "incomplete"),
    ("disconnect", {}, "ConnectionError"), ("slow", {"seconds": 0.8}, "Read timed out"),
]


@pytest.mark.parametrize("fault, options, noticed", FAULTS, ids=[f"{f}-{o}" for f, o, _ in FAULTS])
@pytest.mark.parametrize("endpoint", ["esearch", "efetch"])
def test_transient_faults_are_retried(twin, twin_config, caplog, endpoint, fault, options, noticed):
    archived = []
    client = client_for(twin_config, timeout=0.25, on_response=lambda *a: archived.append(a[0]))
    twin.inject(endpoint, fault, times=2, **options)
    if endpoint == "esearch":
        assert client.esearch("ketamine")["count"] == len(truth(twin, "ketamine"))
    else:
        assert [b.pmids for b in client.fetch_ids([38011560, 100000])] == [[38011560, 100000]]
    calls = twin.requests_to(endpoint)
    assert [c.fault for c in calls] == [fault, fault, None]
    assert client.requests_made == 3 and archived == [endpoint]  # failures are not archived
    retries = [r.getMessage() for r in caplog.records if r.name == "pipeline.eutils"]
    assert len(retries) == 2 and all(noticed in m for m in retries), retries


def test_retry_after_seconds_and_http_dates_are_honoured(twin, twin_config):
    waits = []
    client = client_for(twin_config, sleep=waits.append, give_up_seconds=300)
    twin.inject("esearch", "429", retry_after="7")
    when = datetime.now(timezone.utc) + timedelta(seconds=40)
    twin.inject("esearch", "429", retry_after=format_datetime(when, usegmt=True))
    client.esearch("ketamine")
    assert waits[0] == 7.0 and 30 < waits[1] <= 40


def test_a_retry_after_beyond_the_give_up_budget_fails_at_once(twin, twin_config):
    waits = []
    client = client_for(twin_config, sleep=waits.append, give_up_seconds=5)
    twin.inject("esearch", "429", retry_after="60")
    with pytest.raises(EutilsError, match="HTTP 429"):
        client.esearch("ketamine")
    assert waits == [] and len(twin.requests) == 1


def test_giving_up_names_the_endpoint_and_the_query_window(twin, twin_config):
    client = client_for(twin_config, give_up_seconds=0.3)
    twin.inject("esearch", "502", times=10_000)
    with pytest.raises(EutilsError) as info:
        client.ids_for_window("ketamine[tiab]", date(2020, 1, 1), date(2020, 12, 31), "crdt")
    message = str(info.value)
    for part in ("esearch failed", "'ketamine[tiab]'", "crdt 2020/01/01..2020/12/31", "HTTP 502"):
        assert part in message
    assert len(twin.requests) > 1


def test_giving_up_on_efetch_names_the_ids(twin, twin_config):
    client = client_for(twin_config, give_up_seconds=0.2)
    twin.inject("efetch", "200-error", times=10_000, message="Cannot retrieve history data")
    with pytest.raises(EutilsError, match=r"efetch failed for ids 38011560,100000: .*Cannot retrieve"):
        list(client.fetch_ids([38011560, 100000]))


def test_pubmed_rejecting_a_field_is_not_retried(twin_config):
    class FieldNotFoundSession(requests.Session):
        calls = 0

        def get(self, url, **kw):
            self.calls += 1
            resp = requests.Response()
            resp.status_code, resp.url = 200, url
            resp.raw = urllib3.HTTPResponse(
                io.BytesIO(b'<?xml version="1.0" encoding="UTF-8" ?><eSearchResult><Count>0</Count>'
                           b"<RetMax>0</RetMax><RetStart>0</RetStart><IdList/><ErrorList>"
                           b"<FieldNotFound>tiabx</FieldNotFound></ErrorList></eSearchResult>"),
                status=200, preload_content=False)
            return resp

    session = FieldNotFoundSession()
    with pytest.raises(EutilsError, match="FieldNotFound 'tiabx'"):
        client_for(twin_config, session=session).esearch("ketamine")
    assert session.calls == 1


# ---------------------------------------------------------------- POST, history

def test_long_id_lists_are_posted(twin, twin_config):
    client = client_for(twin_config)
    ids = sorted(r.pmid for r in twin.visible())[:250]
    body = client.efetch_ids(ids)
    client.efetch_ids(ids[:5])
    webenv, key = client.epost(ids)
    assert [(r.endpoint, r.method) for r in twin.requests] == [
        ("efetch", "POST"), ("efetch", "GET"), ("epost", "POST")]
    assert body.count(b"<PubmedArticle>") + body.count(b"<PubmedBookArticle>") == 250
    assert webenv.startswith("MCID_") and key == "1"


def test_history_server_round_trip(twin, twin_config):
    client = client_for(twin_config)
    found = client.esearch("ketamine", usehistory=True)
    page = client.efetch_history(found["webenv"], found["query_key"], retstart=5, retmax=10)
    assert page.count(b"<PubmedArticle>") == 10
    webenv, key = client.epost([38011560, 100000])
    body = client.efetch_history(webenv, key, 0, 500)
    assert twin.record(38011560).raw in body and twin.record(100000).raw in body
    assert twin.requests[1].params["WebEnv"] == found["webenv"]


# ---------------------------------------------------------------- windows

WIDE = "2020:3000[dp]"  # most of the 2020-21 slice: hundreds of records across a year


def test_windows_split_under_the_cap_and_cover_the_range(twin, twin_config):
    twin.retrieval_cap = 50
    client = client_for(twin_config)
    start, end = date(2019, 1, 1), date(2021, 6, 6)
    windows = client.search_windows(WIDE, start, end, "crdt", cap=50)
    everything = truth(twin, WIDE, start, end)
    assert len(everything) > 200 and len(windows) > 4
    assert all(n <= 50 for *_, n in windows) and sum(n for *_, n in windows) == len(everything)
    assert windows[0][0] >= start and windows[-1][1] <= end
    assert all(a[1] < b[0] for a, b in zip(windows, windows[1:]))
    ids = set()
    for w_start, w_end, n in windows:
        got = client.ids_for_window(WIDE, w_start, w_end, "crdt", cap=50)
        assert len(got) == n
        ids.update(got)
    assert ids == everything


def test_an_inverted_window_is_refused(twin, twin_config):
    with pytest.raises(ValueError, match="window starts 2021/06/07, after its end 2021/06/01"):
        client_for(twin_config).search_windows("ketamine", date(2021, 6, 7), date(2021, 6, 1), "crdt")
    assert twin.requests == []


def test_a_single_day_over_the_cap_is_listed_by_publication_date_slices(twin, twin_config):
    twin.retrieval_cap = 50
    client = client_for(twin_config)
    day = date(2021, 6, 7)
    windows = client.search_windows(WIDE, date(2021, 6, 1), day, "crdt", cap=50)
    assert windows[-1][:2] == (day, day) and windows[-1][2] > 50
    ids = client.ids_for_window(WIDE, day, day, "crdt", cap=50)
    assert set(ids) == truth(twin, WIDE, day, day) and len(ids) > 50
    sliced = [r.params["term"] for r in twin.requests_to("esearch") if r.params["term"] != WIDE]
    assert sliced and all(t.startswith(f"({WIDE}) AND ") and t.endswith("[dp]") for t in sliced)


def test_a_single_day_and_publication_day_over_the_cap_is_a_clear_error(twin, twin_config):
    twin.retrieval_cap = 5
    day = date(2021, 6, 7)
    with pytest.raises(EutilsError, match=r"single day 2021/06/07 \[crdt\] and the single publication day"):
        client_for(twin_config).ids_for_window(WIDE, day, day, "crdt", cap=5)


def test_a_window_that_grew_past_the_cap_is_split_again(twin, twin_config):
    twin.retrieval_cap = 50
    twin.advance(date(2021, 6, 5))
    client = client_for(twin_config)
    start, end = date(2021, 6, 4), date(2021, 6, 6)
    (planned,) = client.search_windows(WIDE, start, end, "crdt", cap=50)
    twin.advance(date(2021, 6, 6))  # a day's new records arrive
    ids = client.ids_for_window(WIDE, *planned[:2], "crdt", cap=50)
    assert planned[2] < 50 < len(ids) and set(ids) == truth(twin, WIDE, start, end)


def test_a_server_cap_below_the_clients_is_an_error_not_a_silent_loss(twin, twin_config):
    twin.retrieval_cap = 50
    with pytest.raises(EutilsError, match="listed 50 of"):
        client_for(twin_config).ids_for_window(WIDE, date(2021, 6, 4), date(2021, 6, 6), "crdt")


def test_mdat_windows_see_modified_records(twin, twin_config):
    client = client_for(twin_config)
    day = date(2021, 7, 1)
    assert client.ids_for_window("ketamine", day, day, "mdat") == []
    twin.modify([38011560, 401778], day)
    assert client.ids_for_window("ketamine", day, day, "mdat") == [401778, 38011560]


# ---------------------------------------------------------------- verified fetching

def test_dropped_ids_are_asked_for_again(twin, twin_config):
    client = client_for(twin_config)
    ids = sorted(truth(twin, "ketamine"))
    twin.inject("efetch", "drop-ids", n=3)
    batches = list(client.fetch_ids(ids, batch_size=20))
    fetched = [p for b in batches for p in b.pmids]
    assert sorted(fetched) == ids and len(fetched) == len(ids)
    calls = twin.requests_to("efetch")
    assert len(calls) == 4 and calls[1].params["id"] == ",".join(map(str, ids[17:20]))


def test_ids_still_missing_after_retries_fail_naming_them(twin, twin_config):
    client = client_for(twin_config, id_retries=2)
    twin.inject("efetch", "drop-ids", times=10, pmids=[100000])
    with pytest.raises(MissingRecordsError) as info:
        list(client.fetch_ids([38011560, 100000], context="window 'ketamine' crdt 2020/01/01..2020/12/31"))
    assert info.value.pmids == [100000]
    assert "window 'ketamine' crdt 2020/01/01..2020/12/31" in str(info.value) and "100000" in str(info.value)
    assert len(twin.requests_to("efetch")) == 3


def test_an_id_that_does_not_exist_yet_is_reported_missing(twin, twin_config):
    late = next(r.pmid for r in twin.visible() if r.record["entrez_date"] == "2021-06-07")
    twin.advance(date(2021, 1, 1))
    with pytest.raises(MissingRecordsError, match=str(late)):
        list(client_for(twin_config, id_retries=0).fetch_ids([late]))


def test_fetch_window_pages_through_the_history_server(twin, twin_config):
    twin.retrieval_cap = 50
    client = client_for(twin_config)
    start, end = date(2021, 5, 1), date(2021, 6, 6)
    twin.inject("efetch", "drop-ids", n=1)
    batches = list(client.fetch_window(WIDE, start, end, "crdt", cap=50, batch_size=20))
    fetched = [p for b in batches for p in b.pmids]
    assert sorted(fetched) == sorted(truth(twin, WIDE, start, end))
    by_history = [r for r in twin.requests_to("efetch") if "WebEnv" in r.params]
    by_id = [r for r in twin.requests_to("efetch") if "id" in r.params]
    assert by_history and len(by_id) == 1 and len(by_id[0].params["id"].split(",")) == 1


# ---------------------------------------------------------------- rate limit

def test_limiter_spaces_slots_and_survives_a_clock_jump_or_a_torn_file(tmp_path):
    now, slept = [1000.0], []
    limiter = RateLimiter(4, tmp_path, clock=lambda: now[0], sleep=slept.append)
    assert [limiter.reserve() for _ in range(3)] == [1000.0, 1000.25, 1000.5]
    assert limiter.acquire() == 0.75 and slept == [0.75]
    now[0] = 10.0  # the wall clock moved back: the stored slot is not waited for
    assert limiter.reserve() == 10.0
    limiter.path.write_bytes(b"\x00garbage")
    assert limiter.reserve() == 10.0


def busiest_second(times):
    """Most requests inside any window a little under a second (100 ms for arrival jitter)."""
    times = sorted(times)
    return max(sum(1 for u in times[i:] if u - t < 0.9) for i, t in enumerate(times))


def test_rate_limit_holds_across_threads(twin, twin_config):
    client = EutilsClient(twin_config, backoff_initial=0.01)  # the config's 3 requests/s
    threads = [threading.Thread(target=lambda: [client.esearch("ketamine") for _ in range(3)])
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(twin.requests) == 6 == client.requests_made
    assert busiest_second([r.time for r in twin.requests]) <= 3


def test_rate_limit_holds_across_processes(twin, twin_config):
    script = ("import sys; from pipeline.config import Config; from pipeline.eutils import EutilsClient;"
              "c = EutilsClient(Config(eutils_base_url=sys.argv[1], api_key='k', data_dir=sys.argv[2]));"
              "[c.esearch('ketamine') for _ in range(8)]")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", script, twin.base_url, twin_config.data_dir],
                              env=env) for _ in range(2)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    assert len(twin.requests) == 16
    assert busiest_second([r.time for r in twin.requests]) <= 10


def test_list_windows_plans_and_lists_in_one_pass(twin, twin_config):
    twin.retrieval_cap = 50
    client = client_for(twin_config)
    start, end = date(2019, 1, 1), date(2021, 6, 6)
    windows = client.list_windows(WIDE, start, end, "crdt", cap=50)
    listed = set().union(*(ids for *_, ids in windows))
    assert listed == truth(twin, WIDE, start, end) and len(listed) > 200
    assert all(len(ids) <= 50 for *_, ids in windows)
    one_pass = len(twin.requests)
    twin.requests.clear()
    for w_start, w_end, _ in client.search_windows(WIDE, start, end, "crdt", cap=50):
        client.ids_for_window(WIDE, w_start, w_end, "crdt", cap=50)
    assert one_pass < len(twin.requests)
