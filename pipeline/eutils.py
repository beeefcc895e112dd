"""NCBI E-utilities client for PubMed: ESearch, EFetch and EPost, verified and retried.

Built on requests + tenacity rather than ``Bio.Entrez`` because the pipeline needs what
Bio.Entrez hides: every raw response body, byte for byte, handed to the archive before it is
parsed (``on_response``); our own socket timeouts and ``Retry-After`` handling; one rate limit
shared by every thread and process of a run (``pipeline.ratelimit``); and a check that each
body is complete XML holding exactly the records asked for.

A request is retried with exponential backoff and jitter on connection errors, timeouts,
truncated bodies (a connection closed before Content-Length or the last chunk, XML that does
not reach its closing root tag), HTTP 429 (after ``Retry-After``), HTTP 5xx, and HTTP 200 bodies holding an
``<ERROR>`` element (NCBI's usual shape for a backend failure). ESearch's
``<ErrorList><PhraseNotFound>`` is an ordinary "no hits". When ``give_up_seconds`` run out the
request fails with ``EutilsError`` naming the endpoint and the query, window or ids.

Typical run (``pipeline.fetch``): plan windows with ``search_windows``, list each window's ids
with ``ids_for_window``, dedupe across queries, then ``fetch_ids`` the union.
"""
from __future__ import annotations

import http.client
import logging
import re
import threading
import time
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple
from urllib.parse import urlsplit

import requests
import urllib3
from lxml import etree
from tenacity import Retrying, retry_if_exception_type, stop_before_delay, wait_exponential_jitter

from . import query as pubmed_query
from .config import Config
from .ratelimit import RateLimiter

__all__ = ["EutilsClient", "EutilsError", "MissingRecordsError", "Batch", "efetch_pmids"]

log = logging.getLogger(__name__)

OnResponse = Callable[[str, dict, bytes, int, float], None]

_ROOTS = {"esearch": "eSearchResult", "efetch": "PubmedArticleSet", "epost": "ePostResult"}
_NO_HITS = {"PhraseNotFound", "QuotedPhraseNotFound"}


class EutilsError(RuntimeError):
    """A request that could not be completed; the message names what was being asked."""


class MissingRecordsError(EutilsError):
    def __init__(self, message: str, pmids: list[int], context: str):
        super().__init__(message)
        self.pmids, self.context = pmids, context


class Batch(NamedTuple):
    body: bytes        # the EFetch response, byte for byte
    pmids: list[int]   # the PMIDs the body holds


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


_FIRST_PMID = re.compile(rb"[^<]*<PMID\b[^>]*>(\d+)</PMID>")


def efetch_pmids(body: bytes) -> list[int]:
    """PMIDs of the articles and book articles in an EFetch body (not those it cites): the
    PMID that opens each MedlineCitation or BookDocument. A byte search for the opening tags
    then one anchored match each: a regex scanning every "<" of the body took twice as long."""
    found = []
    for opening in (b"<MedlineCitation", b"<BookDocument"):
        pos = body.find(opening)
        while pos >= 0:
            start_tag_end = body.find(b">", pos) + 1
            if not start_tag_end:
                break  # a body cut inside the tag: the count check reports the missing ids
            match = _FIRST_PMID.match(body, start_tag_end)
            if match:
                found.append((pos, int(match.group(1))))
            pos = body.find(opening, start_tag_end)
    return [pmid for _, pmid in sorted(found)]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _ymd(value: date | str) -> str:
    return value.strftime("%Y/%m/%d") if isinstance(value, date) else str(value)


def _ids_summary(ids: list[int]) -> str:
    shown = ",".join(str(i) for i in ids[:10])
    return f"ids {shown}" + (f",… ({len(ids)} ids)" if len(ids) > 10 else "")


def _check_window(start: date, end: date) -> None:
    if start > end:
        raise ValueError(f"window starts {start:%Y/%m/%d}, after its end {end:%Y/%m/%d}")


class EutilsClient:
    """PubMed E-utilities with retries, a shared rate limit and verified EFetch batches.

    ``on_response(endpoint, params, body, status, elapsed)`` (settable after construction) sees
    every complete, error-free response body exactly as received, with the params as sent
    minus tool / email / api_key (so the key never reaches the archive); failed attempts are
    not reported. ``requests_made`` counts every attempt.

    Tests shrink the waiting: ``rate_per_second``, ``timeout``, ``give_up_seconds`` and
    ``backoff_initial`` / ``backoff_max`` override the config, ``sleep`` replaces the retry
    sleeps (not the rate limiter's)."""

    def __init__(self, config: Config, *, session: requests.Session | None = None,
                 on_response: OnResponse | None = None, rate_per_second: float | None = None,
                 ratelimit_dir: str | Path | None = None, timeout: float | None = None,
                 give_up_seconds: float | None = None, backoff_initial: float = 1.0,
                 backoff_max: float = 60.0, batch_size: int = 500, post_over: int = 200,
                 id_retries: int = 3, sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self.base_url = config.eutils_base_url.rstrip("/") + "/"
        self.session = session or requests.Session()
        self.on_response = on_response
        self.timeout = config.timeout if timeout is None else timeout
        self.give_up_seconds = config.give_up_seconds if give_up_seconds is None else give_up_seconds
        self.batch_size, self.post_over, self.id_retries = batch_size, post_over, id_retries
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self._sleep = sleep
        self.limiter = RateLimiter(rate_per_second or config.rate_per_second,
                                   ratelimit_dir or Path(config.data_dir) / ".ratelimit",
                                   name=urlsplit(self.base_url).netloc)
        self.requests_made = 0
        self._count_lock = threading.Lock()

    # ------------------------------------------------------------ transport

    def _identity(self) -> dict:
        params = {"tool": self.config.tool}
        if self.config.email:
            params["email"] = self.config.email
        if self.config.api_key:
            params["api_key"] = self.config.api_key
        return params

    def _call(self, endpoint: str, params: dict, what: str, *, post: bool = False):
        """One logical request, retried until it yields a complete, error-free body."""
        sent = {"db": "pubmed", **params}
        retrying = Retrying(
            stop=stop_before_delay(self.give_up_seconds), wait=self._wait,
            retry=retry_if_exception_type(_Transient), sleep=self._sleep, reraise=True,
            before_sleep=lambda s: log.warning("%s %s: %s; retry %d", endpoint, what,
                                               s.outcome.exception(), s.attempt_number))
        started = time.monotonic()
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(endpoint, sent, post)
        except _Transient as exc:
            raise EutilsError(
                f"{endpoint} failed for {what}: gave up after "
                f"{retrying.statistics.get('attempt_number', 1)} attempts in "
                f"{time.monotonic() - started:.1f}s; last error: {exc}") from exc
        except EutilsError as exc:
            raise EutilsError(f"{endpoint} failed for {what}: {exc}") from exc

    def _wait(self, state) -> float:
        retry_after = getattr(state.outcome.exception(), "retry_after", None)
        if retry_after is not None:
            return retry_after
        return wait_exponential_jitter(multiplier=self.backoff_initial, max=self.backoff_max,
                                       jitter=self.backoff_initial)(state)

    def _attempt(self, endpoint: str, sent: dict, post: bool):
        url = f"{self.base_url}{endpoint}.fcgi"
        payload = {**sent, **self._identity()}
        self.limiter.acquire()
        with self._count_lock:
            self.requests_made += 1
        t0 = time.monotonic()
        try:
            if post:
                resp = self.session.post(url, data=payload, timeout=self.timeout, stream=True)
            else:
                resp = self.session.get(url, params=payload, timeout=self.timeout, stream=True)
            try:
                # One read of the whole body: ``resp.content`` reads in 10 KB pieces, which
                # cost four times the CPU on an 11 MB EFetch answer. A body read to its end
                # hands the connection back to the pool; one cut short is closed here.
                body = resp.raw.read(decode_content=True)
            finally:
                resp.close()
        except (requests.ConnectionError, requests.Timeout, urllib3.exceptions.HTTPError,
                http.client.IncompleteRead) as exc:
            # urllib3 enforces Content-Length: a body cut short surfaces here, while a body
            # that ends early but whole as far as HTTP knows fails the XML check below
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        elapsed = time.monotonic() - t0
        status = resp.status_code
        if status == 429 or status >= 500:
            snippet = body[:120].decode("utf-8", "replace").replace("\n", " ")
            raise _Transient(f"HTTP {status}: {snippet}",
                             _retry_after(resp.headers.get("Retry-After")))
        if status != 200:
            raise EutilsError(f"HTTP {status}: {body[:300].decode('utf-8', 'replace')}")
        root = self._check_body(endpoint, body)
        if self.on_response:
            self.on_response(endpoint, sent, body, status, elapsed)
        return body, root

    @staticmethod
    def _check_body(endpoint: str, body: bytes):
        """Refuse a body that is an error, truncated or of the wrong kind. EFetch bodies (many
        MB) get a byte scan instead of a parse, and yield their PMIDs; the streaming parser
        reads them once, later, and quarantines any record that is broken inside."""
        if endpoint == "efetch":
            head, tail = body[:4096], body[-4096:].rstrip()
            # NCBI puts an <ERROR> at the start or end of what it sends; looking for one in
            # the middle of 11 MB took as long as finding the PMIDs, and an error there would
            # show anyway as PMIDs missing from the body, which are asked for again.
            if b"<ERROR>" in head or b"<ERROR>" in tail or b"<PubmedArticleSet" not in head:
                return EutilsClient._check_tree(endpoint, body)  # parse the error to report it
            if not tail.endswith(b"</PubmedArticleSet>"):
                raise _Transient(f"incomplete EFetch body ({len(body)} bytes): no closing "
                                 "</PubmedArticleSet>")
            return efetch_pmids(body)
        return EutilsClient._check_tree(endpoint, body)

    @staticmethod
    def _check_tree(endpoint: str, body: bytes) -> etree._Element:
        # a parser per call: lxml parsers must not be shared between threads
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=True)
        try:
            root = etree.fromstring(body, parser)
        except etree.XMLSyntaxError as exc:
            raise _Transient(f"incomplete or malformed XML ({len(body)} bytes): {exc}") from exc
        errors = [e.text or "" for e in root.iterfind("ERROR")]
        if root.tag == "ERROR" or errors:
            raise _Transient("NCBI error: " + " | ".join(errors or [root.text or ""]).strip())
        if root.tag != _ROOTS[endpoint]:
            raise _Transient(f"expected <{_ROOTS[endpoint]}>, got <{root.tag}>")
        return root

    # ------------------------------------------------------------ endpoints

    def esearch(self, term: str, *, mindate: date | str | None = None,
                maxdate: date | str | None = None, datetype: str | None = None,
                retmax: int = 0, usehistory: bool = False, context: str = "") -> dict:
        """Count (and list up to ``retmax``) the PMIDs matching ``term``.

        Returns ``{count, ids, webenv, query_key, query_translation, not_found}``; the query is
        checked offline first (``pipeline.query.validate``) so a typo never reaches NCBI."""
        pubmed_query.validate(term)
        params = {"term": term, "retmax": str(retmax)}
        what = f"term {term!r}"
        if mindate is not None or maxdate is not None:
            params.update(mindate=_ymd(mindate or "1800/01/01"), maxdate=_ymd(maxdate or "3000/12/31"),
                          datetype=datetype or "pdat")
            what += f" {params['datetype']} {params['mindate']}..{params['maxdate']}"
        if usehistory:
            params["usehistory"] = "y"
        what = f"{context}: {what}" if context else what
        _, root = self._call("esearch", params, what, post=len(term) > 1500)
        problems = root.find("ErrorList")
        not_found = []
        for problem in (problems if problems is not None else []):
            if problem.tag in _NO_HITS:
                not_found.append(problem.text or "")
            else:
                raise EutilsError(f"esearch failed for {what}: PubMed reports "
                                  f"{problem.tag} {problem.text!r}")
        return {
            "count": int(root.findtext("Count") or 0),
            "ids": [int(i) for i in root.xpath("IdList/Id/text()")],
            "webenv": root.findtext("WebEnv"),
            "query_key": root.findtext("QueryKey"),
            "query_translation": root.findtext("QueryTranslation"),
            "not_found": not_found,
        }

    def _efetch_ids(self, ids: list[int], context: str = ""):
        what = _ids_summary(ids)
        return self._call("efetch", {"id": ",".join(map(str, ids)), "retmode": "xml"},
                          f"{context}: {what}" if context else what, post=len(ids) > self.post_over)

    def efetch_ids(self, ids: Iterable[int]) -> bytes:
        """The PubmedArticleSet for ``ids`` (POSTed when the list is long)."""
        return self._efetch_ids([int(i) for i in ids])[0]

    def efetch_history(self, webenv: str, query_key: str | int, retstart: int, retmax: int) -> bytes:
        body, _ = self._efetch_history(webenv, query_key, retstart, retmax)
        return body

    def _efetch_history(self, webenv, query_key, retstart, retmax, context: str = ""):
        what = f"WebEnv {webenv} query_key {query_key} retstart {retstart} retmax {retmax}"
        return self._call("efetch", {"WebEnv": webenv, "query_key": str(query_key),
                                     "retstart": str(retstart), "retmax": str(retmax),
                                     "retmode": "xml"},
                          f"{context}: {what}" if context else what)

    def epost(self, ids: Iterable[int]) -> tuple[str, str]:
        """Store ``ids`` on the history server; returns ``(webenv, query_key)``."""
        ids = [int(i) for i in ids]
        _, root = self._call("epost", {"id": ",".join(map(str, ids))}, _ids_summary(ids),
                             post=len(ids) > self.post_over)
        return root.findtext("WebEnv"), root.findtext("QueryKey")

    # ------------------------------------------------------------ windows and batches

    def search_windows(self, term: str, start: date, end: date, datetype: str,
                       cap: int = 9999) -> list[tuple[date, date, int]]:
        """Split ``start..end`` (inclusive days) into windows of at most ``cap`` hits each,
        because ESearch lists only the first 9,999 ids of a search. Empty windows are left
        out. A single day can still hold more than ``cap`` (NLM revises tens of thousands of
        records on one day): ``ids_for_window`` lists such a day by publication-date slices."""
        _check_window(start, end)
        return list(self._split(term, start, end, datetype, cap, None))

    def _split(self, term, start, end, datetype, cap, count, listed: dict | None = None):
        """Yield ``(start, end, count)`` windows in date order as the bisection settles them."""
        if count is None or count <= 0:
            # a count derived by subtraction is only trusted when positive: records may have
            # arrived meanwhile, and a window wrongly thought empty would be skipped for good
            found = self.esearch(term, mindate=start, maxdate=end, datetype=datetype,
                                 retmax=cap if listed is not None else 0)
            count = found["count"]
            if listed is not None and 0 < count == len(found["ids"]):
                listed[(start, end)] = found["ids"]
        if count == 0:
            return
        if count <= cap or start >= end:
            # a single day over the cap: ids_for_window partitions it by publication date
            yield start, end, count
            return
        # Split three quarters of the way along: PubMed's records crowd towards the present, so
        # the older part usually fits under the cap in one listing and each level narrows the
        # crowded end fourfold instead of twofold.
        mid = start + timedelta(days=(end - start).days * 3 // 4)
        left_count = 0
        for window in self._split(term, start, mid, datetype, cap, None, listed):
            left_count += window[2]
            yield window
        yield from self._split(term, mid + timedelta(days=1), end, datetype, cap,
                               count - left_count, listed)

    def list_windows(self, term: str, start: date, end: date, datetype: str,
                     cap: int = 9999) -> list[tuple[date, date, list[int]]]:
        """``search_windows`` and ``ids_for_window`` in one pass (see ``iter_windows``)."""
        return list(self.iter_windows(term, start, end, datetype, cap))

    def iter_windows(self, term: str, start: date, end: date, datetype: str,
                     cap: int = 9999) -> Iterator[tuple[date, date, list[int]]]:
        """Yield ``(start, end, ids)`` per window as soon as it is listed. Each planning
        ESearch asks for the ids too, so a window it listed whole is not asked again (half the
        requests of a pull)."""
        _check_window(start, end)
        listed: dict = {}
        for w_start, w_end, count in self._split(term, start, end, datetype, cap, None, listed):
            ids = listed.get((w_start, w_end))
            if ids is None:
                ids = self.ids_for_window(term, w_start, w_end, datetype, cap)
            yield w_start, w_end, sorted(set(ids))

    def ids_for_window(self, term: str, start: date, end: date, datetype: str,
                       cap: int = 9999) -> list[int]:
        """Every PMID matching ``term`` in the window, sorted; re-splits the window if it
        grew past ``cap`` since it was planned."""
        _check_window(start, end)
        found = self.esearch(term, mindate=start, maxdate=end, datetype=datetype, retmax=cap)
        if len(found["ids"]) >= found["count"]:
            return sorted(set(found["ids"]))
        if start == end and found["count"] > cap:
            return sorted(self._ids_by_pubdate(term, start, datetype, cap, date(1800, 1, 1),
                                               date(end.year + 1, 12, 31)))
        if found["count"] <= cap:
            raise EutilsError(
                f"esearch listed {len(found['ids'])} of {found['count']} ids for {term!r} "
                f"{datetype} {start:%Y/%m/%d}..{end:%Y/%m/%d}: the server's retrieval cap is "
                f"below cap={cap}")
        ids: set[int] = set()
        for w_start, w_end, _ in self.search_windows(term, start, end, datetype, cap):
            ids.update(self.ids_for_window(term, w_start, w_end, datetype, cap))
        return sorted(ids)

    def _ids_by_pubdate(self, term, day, datetype, cap, lo: date, hi: date) -> set[int]:
        """A single ``datetype`` day over the cap, listed in slices of publication date
        (halving the slice until each is under the cap)."""
        sliced = f"({term}) AND {lo:%Y/%m/%d}:{hi:%Y/%m/%d}[dp]"
        found = self.esearch(sliced, mindate=day, maxdate=day, datetype=datetype, retmax=cap)
        if len(found["ids"]) >= found["count"]:
            return set(found["ids"])
        if lo >= hi:
            raise EutilsError(
                f"esearch: {found['count']} records match {term!r} on the single day "
                f"{day:%Y/%m/%d} [{datetype}] and the single publication day {lo:%Y/%m/%d}, "
                f"over the {cap}-id ESearch cap; narrow the query")
        mid = lo + timedelta(days=(hi - lo).days // 2)
        return (self._ids_by_pubdate(term, day, datetype, cap, lo, mid)
                | self._ids_by_pubdate(term, day, datetype, cap, mid + timedelta(days=1), hi))

    def fetch_ids(self, ids: Iterable[int], *, batch_size: int | None = None,
                  context: str = "") -> Iterator[Batch]:
        """EFetch ``ids`` in batches, checking each body holds every PMID asked for; missing
        ones are asked again (``id_retries`` times) before ``MissingRecordsError``."""
        wanted = list(dict.fromkeys(int(i) for i in ids))
        size = batch_size or self.batch_size
        for i in range(0, len(wanted), size):
            yield from self._fetch_verified(wanted[i:i + size], context)

    def _fetch_verified(self, ids: list[int], context: str, rounds_done: int = 0) -> Iterator[Batch]:
        missing = ids
        for round_ in range(rounds_done, self.id_retries + 1):
            if round_:
                self._sleep(min(self.backoff_initial * 2 ** (round_ - 1), self.backoff_max))
            body, got = self._efetch_ids(missing, context)
            yield Batch(body, got)
            seen = set(got)
            missing = [i for i in missing if i not in seen]
            if not missing:
                return
        where = context or _ids_summary(ids)
        raise MissingRecordsError(
            f"efetch did not return {len(missing)} PMIDs of {where} after "
            f"{self.id_retries + 1} attempts: {','.join(map(str, missing[:50]))}"
            + (" …" if len(missing) > 50 else ""), missing, where)

    def fetch_window(self, term: str, start: date, end: date, datetype: str, *,
                     cap: int = 9999, batch_size: int | None = None) -> Iterator[Batch]:
        """Fetch every record of one query's window through the history server (one ESearch
        per sub-window, then EFetch pages), verified against the ESearch id list."""
        size = batch_size or self.batch_size
        for w_start, w_end, _ in self.search_windows(term, start, end, datetype, cap):
            window = f"window {term!r} {datetype} {w_start:%Y/%m/%d}..{w_end:%Y/%m/%d}"
            found = self.esearch(term, mindate=w_start, maxdate=w_end, datetype=datetype,
                                 retmax=cap, usehistory=True, context=window)
            if len(found["ids"]) < found["count"]:  # grew past the cap since planning
                yield from self.fetch_ids(
                    self.ids_for_window(term, w_start, w_end, datetype, cap), context=window)
                continue
            got: set[int] = set()
            for retstart in range(0, found["count"], size):
                body, pmids = self._efetch_history(found["webenv"], found["query_key"],
                                                   retstart, size, window)
                got.update(pmids)
                yield Batch(body, pmids)
            missing = [i for i in found["ids"] if i not in got]
            if missing:
                yield from self._fetch_verified(missing, window, rounds_done=1)
