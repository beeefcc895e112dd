"""A loopback twin of NCBI E-utilities (ESearch, EFetch, EPost) over real PubMed records.

The corpus in ``tests/fixtures/twin/`` is real NLM XML (see its README). The twin serves each
record's original bytes verbatim inside a PubmedArticleSet with the efetch DOCTYPE, answers
ESearch with ``pipeline.query.matches`` (so search semantics are the documented offline
approximation of PubMed), keeps a history server (WebEnv / query_key), reports the true
``Count`` while listing at most ``retrieval_cap`` ids as ESearch does, and logs every request.

Tests steer it:
  * ``inject(endpoint, fault, times=n, **options)`` -- scripted failures, see ``FAULTS``;
  * ``advance(today)`` -- only records whose Entrez date is on or before ``today`` exist, so
    moving the day forward makes new records "arrive" (crdt);
  * ``modify(pmids, date_revised, edit=None)`` -- rewrite records' ``DateRevised`` (and
    optionally their XML) so they show up in ``mdat`` windows, as NCBI revisions do.
"""
from __future__ import annotations

import gzip
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from pipeline import query
from pipeline.parse import iter_pubmed

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "twin"

EFETCH_HEAD = (b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
               b'1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
               b"<PubmedArticleSet>\n")
EFETCH_TAIL = b"</PubmedArticleSet>\n"
ESEARCH_HEAD = ('<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD '
                'esearch 20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n')
EPOST_HEAD = ('<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE ePostResult PUBLIC "-//NLM//DTD epost '
              '20090526//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20090526/epost.dtd">')
# NCBI's own spelling: the efetch error document's DOCTYPE says "eEfetchResult"
EFETCH_ERROR_HEAD = ('<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eEfetchResult PUBLIC '
                     '"-//NLM//DTD efetch 20131226//EN" '
                     '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20131226/efetch.dtd">\n')

FAULTS = {
    "429": "HTTP 429 with Retry-After (option retry_after, default '0') and NCBI's JSON body",
    "500": "HTTP 500 with an HTML page", "502": "HTTP 502 with an HTML page",
    "503": "HTTP 503 with an HTML page",
    "200-error": "HTTP 200 whose body is the endpoint's <ERROR> shape (option message)",
    "truncate": "half the body; option lie=True (default) keeps the full Content-Length and "
                "drops the connection, lie=False declares the short length",
    "slow": "sleep `seconds` (default 2) before answering, to trip the client's timeout",
    "disconnect": "close the connection without any response",
    "drop-ids": "EFetch omits records: option pmids=[...] or n (default 1, from the end)",
}
_RECORD = re.compile(rb"<(PubmedArticle|PubmedBookArticle)>.*?</\1>", re.S)
_PMID = re.compile(rb"<PMID[^>]*>(\d+)</PMID>")
_DATE_REVISED = re.compile(rb"(<DateRevised>\s*<Year>)\d+(</Year>\s*<Month>)\d+(</Month>\s*<Day>)\d+(</Day>)")
_DATETYPES = {"crdt": "crdt", "edat": "edat", "mdat": "mdat", "pdat": "dp"}


@dataclass(frozen=True)
class TwinRecord:
    pmid: int
    raw: bytes                 # the record's XML as NLM wrote it
    prepared: query.Prepared   # its parsed dict, ready for matching

    @property
    def record(self) -> dict:
        return self.prepared.record

    @classmethod
    def from_raw(cls, raw: bytes) -> "TwinRecord":
        events = list(iter_pubmed(b"<PubmedArticleSet>" + raw + b"</PubmedArticleSet>"))
        if len(events) != 1 or events[0]["kind"] != "article":
            raise ValueError(f"twin corpus record did not parse: {events[:1]} {raw[:200]!r}")
        return cls(events[0]["pmid"], raw, query.prepare(events[0]))


class Corpus:
    """The twin's records, loaded once per test session (read-only)."""

    def __init__(self, records: list[TwinRecord]):
        self.records = {r.pmid: r for r in records}

    @classmethod
    def load(cls, directory: Path = FIXTURES) -> "Corpus":
        out = []
        for path in sorted(directory.glob("*.xml.gz")):
            data = gzip.decompress(path.read_bytes())
            raws = [m.group(0) for m in _RECORD.finditer(data)]
            events = list(iter_pubmed(data))
            pmids = [int(_PMID.search(raw).group(1)) for raw in raws]
            if [e.get("pmid") for e in events] != pmids or any(e["kind"] != "article" for e in events):
                raise ValueError(f"{path.name}: records do not all parse as articles")
            out += [TwinRecord(p, raw, query.prepare(e)) for p, raw, e in zip(pmids, raws, events)]
        return cls(out)

    def latest_entrez(self) -> date:
        return max(date.fromisoformat(r.record["entrez_date"]) for r in self.records.values()
                   if r.record.get("entrez_date"))


@dataclass
class LoggedRequest:
    endpoint: str
    method: str
    params: dict
    time: float
    fault: str | None = None


@dataclass
class _Fault:
    endpoint: str
    kind: str
    remaining: int
    options: dict = field(default_factory=dict)


@dataclass
class _Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/xml; charset=UTF-8"
    headers: dict = field(default_factory=dict)


class EutilsTwin:
    def __init__(self, corpus: Corpus | None = None, *, today: date | None = None,
                 retrieval_cap: int = 9999):
        self.corpus = corpus or Corpus.load()
        self.today = today or self.corpus.latest_entrez()
        self.retrieval_cap = retrieval_cap
        self.requests: list[LoggedRequest] = []
        self._changed: dict[int, TwinRecord] = {}
        self._revision = 0  # bumped by modify(), so the visible set is recomputed
        self._visible: tuple = (None, [], frozenset())
        self._history: dict[str, list[list[int]]] = {}
        self._match_cache: dict[str, dict[int, tuple]] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> "EutilsTwin":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.twin = self
        # a short poll interval keeps shutdown (once per test) quick
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="eutils-twin",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/entrez/eutils/"

    # ------------------------------------------------------------ steering

    def inject(self, endpoint: str, fault: str, times: int = 1, **options) -> None:
        """Make the next ``times`` requests to ``endpoint`` ("esearch", "efetch", "epost" or
        "*") fail with ``fault`` (one of ``FAULTS``); scripts queue in order."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        with self._lock:
            self._faults.append(_Fault(endpoint, fault, times, options))

    def advance(self, today: date) -> None:
        self.today = today

    def modify(self, pmids, date_revised: date, edit: Callable[[bytes], bytes] | None = None) -> None:
        """Revise records: new ``DateRevised`` in their XML, and ``edit(raw) -> raw`` if given."""
        stamp = [b"%04d" % date_revised.year, b"%02d" % date_revised.month, b"%02d" % date_revised.day]
        with self._lock:
            for pmid in pmids:
                raw = self.record(pmid).raw
                raw, n = _DATE_REVISED.subn(lambda m: m.group(1) + stamp[0] + m.group(2) + stamp[1]
                                            + m.group(3) + stamp[2] + m.group(4), raw, count=1)
                if n != 1:
                    raise ValueError(f"record {pmid} has no DateRevised to change")
                self._changed[pmid] = TwinRecord.from_raw(edit(raw) if edit else raw)
            self._revision += 1

    def record(self, pmid: int) -> TwinRecord:
        return self._changed.get(pmid) or self.corpus.records[pmid]

    def visible(self) -> list[TwinRecord]:
        """The records that exist on ``today`` (Entrez date not in the future)."""
        return self._visible_now()[0]

    def _visible_now(self) -> tuple[list[TwinRecord], frozenset]:
        # Worked out once per (day, revision), not per request: a 20,000-record corpus cost
        # the twin more CPU than the pipeline's parse of a batch.
        key = (self.today, self._revision)
        cached_key, records, pmids = self._visible
        if cached_key != key:
            today = self.today.isoformat()
            records = [rec for rec in map(self.record, self.corpus.records)
                       if (rec.record.get("entrez_date") or "") <= today]
            pmids = frozenset(rec.pmid for rec in records)
            self._visible = (key, records, pmids)
        return records, pmids

    def requests_to(self, endpoint: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.endpoint == endpoint]

    # ------------------------------------------------------------ serving

    def _take_fault(self, endpoint: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.endpoint in (endpoint, "*"):
                    fault.remaining -= 1
                    return fault
        return None

    def answer(self, endpoint: str, params: dict) -> _Reply:
        if endpoint == "esearch":
            return self._esearch(params)
        if endpoint == "efetch":
            return self._efetch(params)
        if endpoint == "epost":
            return self._epost(params)
        return _Reply(404, b"<html><body>404 Not Found</body></html>", "text/html")

    def _new_history(self, webenv: str | None, ids: list[int]) -> tuple[str, int]:
        with self._lock:
            if webenv not in self._history:
                webenv = "MCID_" + secrets.token_hex(12)
                self._history[webenv] = []
            self._history[webenv].append(ids)
            return webenv, len(self._history[webenv])

    def _matching(self, key: str, node, records: list[TwinRecord]) -> list[TwinRecord]:
        """Records matching ``node``, remembered per query text and record version: a pull
        asks the same term over many date windows, and NCBI does not re-scan for each."""
        with self._lock:
            seen = self._match_cache.setdefault(key, {})
        out = []
        for r in records:
            known = seen.get(r.pmid)
            if known is None or known[0] is not r:
                known = seen[r.pmid] = (r, query.matches(node, r.prepared))
            if known[1]:
                out.append(r)
        return out

    def _in_window(self, records, datetype: str, mindate: str, maxdate: str) -> list[TwinRecord]:
        """Records whose ``datetype`` date is in the window. Entrez and revision dates are
        compared directly (ISO strings order as dates); publication dates go through
        ``pipeline.query``, which knows MedlineDate and seasons."""
        field = {"crdt": "entrez_date", "edat": "entrez_date", "mdat": "date_revised"}.get(datetype)
        if field is None:
            window = f"{mindate}:{maxdate}[{_DATETYPES.get(datetype, 'dp')}]"
            return self._matching(window, query.parse_query(window), records)
        lo, hi = (_iso_day(mindate, first=True), _iso_day(maxdate, first=False))
        return [r for r in records if lo <= (r.record.get(field) or "") <= hi]

    def _esearch(self, p: dict) -> _Reply:
        term = p.get("term", "")
        try:
            node = query.parse_query(term)
        except query.QuerySyntaxError as exc:
            return _error_reply("esearch", f"Search Backend failed: {exc.reason}")
        hits = self._matching(term, node, self.visible())
        matched_term = bool(hits)
        if p.get("mindate") and p.get("maxdate"):
            hits = self._in_window(hits, p.get("datetype", "pdat"), p["mindate"], p["maxdate"])
        ids = sorted((r.pmid for r in hits), reverse=True)
        retstart, retmax = int(p.get("retstart", 0)), int(p.get("retmax", 20))
        listed = ids[retstart:max(retstart, min(retstart + retmax, self.retrieval_cap))]
        parts = [ESEARCH_HEAD, f"<eSearchResult><Count>{len(ids)}</Count><RetMax>{len(listed)}</RetMax>"
                 f"<RetStart>{retstart}</RetStart>"]
        if p.get("usehistory") == "y":
            webenv, key = self._new_history(p.get("WebEnv"), ids)
            parts.append(f"<QueryKey>{key}</QueryKey><WebEnv>{webenv}</WebEnv>")
        parts.append("<IdList>\n" + "".join(f"<Id>{i}</Id>\n" for i in listed) + "</IdList>"
                     if listed else "<IdList/>")
        parts.append(f"<TranslationSet/><QueryTranslation>{escape(str(node))}</QueryTranslation>")
        if not matched_term:
            parts.append(f"<ErrorList><PhraseNotFound>{escape(term)}</PhraseNotFound></ErrorList>"
                         "<WarningList><OutputMessage>No items found.</OutputMessage></WarningList>")
        parts.append("</eSearchResult>\n")
        return _Reply(body="".join(parts).encode())

    def _efetch(self, p: dict) -> _Reply:
        if p.get("id"):
            ids = [int(i) for i in p["id"].split(",") if i.strip()]
        elif p.get("WebEnv") and p.get("query_key"):
            stored = self._history.get(p["WebEnv"], [])
            key = int(p["query_key"])
            if not 1 <= key <= len(stored):
                return _error_reply("efetch", f"Cannot retrieve history data. query_key: {key}, "
                                              f"WebEnv: {p['WebEnv']}")
            retstart = int(p.get("retstart", 0))
            ids = stored[key - 1][retstart:retstart + int(p.get("retmax", 20))]
        else:
            return _error_reply("efetch", "Empty id list - nothing todo")
        existing = self._visible_now()[1]
        chosen = [i for i in dict.fromkeys(ids) if i in existing]
        return _Reply(body=EFETCH_HEAD + b"".join(self.record(i).raw + b"\n" for i in chosen)
                      + EFETCH_TAIL)

    def _epost(self, p: dict) -> _Reply:
        ids = [int(i) for i in p.get("id", "").split(",") if i.strip()]
        if not ids:
            return _error_reply("epost", "Empty ID list; Nothing to store")
        webenv, key = self._new_history(p.get("WebEnv"), ids)
        return _Reply(body=(EPOST_HEAD + f"<ePostResult>\n\t<QueryKey>{key}</QueryKey>\n"
                            f"\t<WebEnv>{webenv}</WebEnv>\n</ePostResult>\n").encode())


def _iso_day(value: str, *, first: bool) -> str:
    """E-utilities dates are YYYY, YYYY/MM or YYYY/MM/DD; a partial date means its first or
    last day."""
    parts = value.strip().split("/")
    year = parts[0]
    month = parts[1].zfill(2) if len(parts) > 1 else ("01" if first else "12")
    day = parts[2].zfill(2) if len(parts) > 2 else ("01" if first else "31")
    return f"{year}-{month}-{day}"


def _error_reply(endpoint: str, message: str) -> _Reply:
    if endpoint == "esearch":
        body = f"{ESEARCH_HEAD}<eSearchResult><ERROR>{escape(message)}</ERROR></eSearchResult>\n"
    elif endpoint == "epost":
        body = f"{EPOST_HEAD}\n<ePostResult>\n\t<ERROR>{escape(message)}</ERROR>\n</ePostResult>\n"
    else:
        body = f"{EFETCH_ERROR_HEAD}<eFetchResult>\n\t<ERROR>{escape(message)}</ERROR>\n</eFetchResult>\n"
    return _Reply(body=body.encode())


def _drop_ids(reply: _Reply, options: dict) -> _Reply:
    served = [(int(_PMID.search(m.group(0)).group(1)), m.group(0))
              for m in _RECORD.finditer(reply.body)]
    dropped = set(options.get("pmids") or [p for p, _ in served[-options.get("n", 1):]])
    body = reply.body
    for pmid, raw in served:
        if pmid in dropped:
            body = body.replace(raw + b"\n", b"", 1)
    return _Reply(reply.status, body, reply.content_type)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, *args):  # the request log lives in twin.requests
        pass

    def do_GET(self):
        self._serve(dict(parse_qsl(urlsplit(self.path).query)))

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = self.rfile.read(length).decode()
        self._serve({**dict(parse_qsl(urlsplit(self.path).query)), **dict(parse_qsl(form))})

    def _serve(self, params: dict):
        twin: EutilsTwin = self.server.twin
        endpoint = urlsplit(self.path).path.rsplit("/", 1)[-1].removesuffix(".fcgi")
        fault = twin._take_fault(endpoint)
        with twin._lock:
            twin.requests.append(LoggedRequest(endpoint, self.command, params, time.time(),
                                               fault.kind if fault else None))
        kind = fault.kind if fault else None
        if kind == "disconnect":
            self.close_connection = True
            return
        if kind == "slow":
            twin._stopping.wait(fault.options.get("seconds", 2.0))
        if kind == "429":
            reply = _Reply(429, b'{"error":"API rate limit exceeded","count":"11","limit":"10"}',
                           "application/json", {"Retry-After": str(fault.options.get("retry_after", "0"))})
        elif kind in ("500", "502", "503"):
            reply = _Reply(int(kind), f"<!DOCTYPE html><html><head><title>{kind} Server Error</title>"
                           f"</head><body><h1>{kind}</h1><p>The server encountered a temporary error."
                           f"</p></body></html>".encode(), "text/html")
        elif kind == "200-error":
            reply = _error_reply(endpoint, fault.options.get("message", "Search Backend failed: "
                                                                        "Database is not available"))
        else:
            reply = twin.answer(endpoint, params)
        if kind == "drop-ids":
            reply = _drop_ids(reply, fault.options)
        body, length = reply.body, len(reply.body)
        if kind == "truncate":
            body = body[:len(body) // 2]
            length = length if fault.options.get("lie", True) else len(body)
            self.close_connection = True
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(length))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a "slow" fault)
