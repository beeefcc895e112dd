"""Streaming parser for PubMed XML: efetch responses, NLM baseline and daily update files.

``iter_pubmed`` yields one plain dict per record (``article``, ``delete`` or ``quarantine``),
shaped as docs/record-format.md describes; ``pipeline.records`` reads each record's fields.
Memory is bounded by one record plus one read block, so the 233 MB update files stream flat.

Two routes give the same events:

- The split route takes the layout every PubMed producer writes: a UTF-8 XML declaration, a
  DOCTYPE without an internal subset, a bare ``<PubmedArticleSet>`` root and record elements
  separated by whitespace. A byte search finds each record's end tag, the parts no field reads
  (reference lists, History stamps but the one read, MedlineJournalInfo) are cut out, and
  libxml2 builds the rest of the record on its own (``etree.fromstring``), without the
  per-element event hooks ``iterparse`` runs and without the indentation between elements
  (``records.BlanklessParser`` says when a record is built again with it). Record end tags
  cannot occur unescaped in text; only a comment or CDATA section inside a record could hold
  one, which PubMed never writes, and a record cut short by one fails to parse and is
  quarantined rather than misread. A record that is not well-formed is quarantined on its own
  and the stream goes on.
- Anything else (another encoding, a namespaced or unexpected root, an HTML error page, content
  between records that is not whitespace) goes through lxml's ``iterparse``, from the point where
  the layout stopped being the usual one.

Nothing the document contains makes either route raise: input that stops being XML (truncated
download, gzip garbage) ends the stream with one ``quarantine`` event saying where.
"""
from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from typing import IO, Iterator, Union

from lxml import etree

from .records import (
    RAW_LIMIT, BlanklessParser, medline_date, month_number, quarantine, raw_text, record_event,
)

__all__ = ["RAW_LIMIT", "RECORD_TAGS", "iter_pubmed", "medline_date", "month_number", "parse_bytes"]

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes]]

RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation")
_ACCEPTED_ROOTS = frozenset(("PubmedArticleSet",) + RECORD_TAGS)
_GZIP_MAGIC = b"\x1f\x8b"
# What reading the input itself can raise, as opposed to reading one record's fields.
_INPUT_ERRORS = (etree.LxmlError, OSError, EOFError, zlib.error)
# 64 KB: reads this size and the buffer joined from them stay below glibc malloc's mmap threshold
# (128 KB), so the process reuses its heap instead of mapping and faulting in fresh pages
# for every read (27,000 page faults fewer on the 233 MB update file).
_BLOCK = 1 << 16
# Enough bytes to tell "</PubmedArticleSet>" and "<PubmedBookArticle " apart at a boundary.
_LOOKAHEAD = 64

_PROLOG = re.compile(
    rb"(?:\xef\xbb\xbf)?[ \t\r\n]*(<\?xml[ \t\r\n][^>]*?\?>)?[ \t\r\n]*"
    rb"(?:<!DOCTYPE[ \t\r\n][^\[>]*>)?[ \t\r\n]*<PubmedArticleSet[ \t\r\n]*(/?)>"
)
_UTF8_DECLARATION = re.compile(rb"""^(?:(?!encoding).)*$|encoding[ \t\r\n]*=[ \t\r\n]*["']utf-?8["']""", re.I | re.S)
_SPACE = re.compile(rb"[ \t\r\n]*")
_START = re.compile(rb"<(PubmedArticle|PubmedBookArticle|DeleteCitation)(?=[ \t\r\n/>])")
_END_TAGS = {name.encode(): f"</{name}>".encode() for name in RECORD_TAGS}
_SET_END = re.compile(rb"</PubmedArticleSet[ \t\r\n]*>")
_AFTER_NAME = frozenset((b" ", b"\t", b"\r", b"\n", b">", b"/"))
_PMID = re.compile(rb"<PMID[^>]*>[ \t\r\n]*(\d+)[ \t\r\n]*</PMID>")


# The same safety options on both routes: no DTD, no network, entities left unresolved.
_OPTIONS = dict(recover=False, remove_comments=True, remove_pis=True, resolve_entities=False, no_network=True)


# ---------------------------------------------------------------- the split route


def _pmid_in(data: bytes) -> int | None:
    found = _PMID.search(data)
    return int(found.group(1)) if found else None


def _decoded(data: bytes) -> str:
    return data[:RAW_LIMIT * 4].decode("utf-8", "replace")[:RAW_LIMIT]


class _Blocks:
    """Reads about ``size`` bytes a call; a read error is raised only after the bytes before it.

    ``GzipFile.read(n)`` drops what it had inflated when a truncated download ends inside the
    call; ``read1`` returns it piece by piece, so every complete record before the break counts.
    """

    def __init__(self, stream: IO[bytes]):
        self._read = getattr(stream, "read1", stream.read)
        self._error: BaseException | None = None

    def read(self, size: int = _BLOCK) -> bytes:
        if self._error is not None:
            raise self._error
        if size is None or size < 0:
            size = 1 << 62
        parts, got = [], 0
        try:
            while got < size:
                part = self._read(min(size - got, _BLOCK))
                if not part:
                    break
                parts.append(part)
                got += len(part)
        except _INPUT_ERRORS as exc:
            if not parts:
                raise
            self._error = exc
        return b"".join(parts)


class _Prefixed:
    """A read()-able stream that replays ``head`` before the rest of ``stream``."""

    def __init__(self, head: bytes, stream: IO[bytes]):
        self._head, self._stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._stream.read(size)
        if size is None or size < 0:
            data, self._head = self._head + self._stream.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        return data


def _trimmed(buf: bytes, start: int, stop: int) -> bytes:
    """The record's bytes minus what no field reads, cut before libxml2 builds the record.

    - Reference lists: over a quarter of a recent update file's bytes. The DTD puts every
      ``<ReferenceList>`` last in its parent (PubmedData, BookDocument), so the span from the
      first one's start to the last one's end holds nothing else.
    - History stamps other than ``entrez`` (the only one read when present): a tenth of the bytes
      left. Only a stamp written exactly as PubMed writes it is recognised; otherwise the whole
      History stays and the reader picks as it always does.
    """
    pieces = []
    # Both sit in PubmedData, which closes the record: looking back for its start reads the
    # bytes of PubmedData, not the whole MedlineCitation before it.
    data = buf.rfind(b"<PubmedData>", start, stop)
    if data > start:
        start_data = data
        # MedlineJournalInfo: the DTD puts it in every MedlineCitation, after the Article and
        # a few short lists, and nothing reads it.
        journal_end = buf.rfind(b"</MedlineJournalInfo>", start, data)
        if journal_end >= 0:
            journal = buf.rfind(b"<MedlineJournalInfo>", max(start, journal_end - 512), journal_end)
            if journal >= 0:
                pieces.append(buf[start:journal])
                start = journal_end + 21
    else:  # a book's PubmedBookData, or no PubmedData at all
        start_data = start
    history = buf.find(b"<History>", start_data, stop)
    if history >= 0:
        entrez = buf.find(b'<PubMedPubDate PubStatus="entrez">', history, stop)
        history_end = buf.find(b"</History>", history, stop)
        if 0 <= entrez < history_end:
            entrez_end = buf.find(b"</PubMedPubDate>", entrez, history_end)
            if entrez_end >= 0:
                pieces += [buf[start:history + 9], buf[entrez:entrez_end + 16]]
                start = history_end
    first = buf.find(b"<ReferenceList", max(start, start_data), stop)
    last = buf.rfind(b"</ReferenceList>", first, stop) if first >= 0 else -1
    if last >= 0 and buf[first + 14:first + 15] in _AFTER_NAME:
        pieces += [buf[start:first], buf[last + 16:stop]]
    else:  # none, or unclosed (libxml2 reports it)
        pieces.append(buf[start:stop])
    return b"".join(pieces) if len(pieces) > 1 else pieces[0]


def _blanks_are_layout(chunk: bytes) -> bool:
    """Whether ``BlanklessParser`` may build this record.

    libxml2 also drops a blank run that comes before a comment, a CDATA section, a processing
    instruction or a carriage return, and nothing in the tree then shows that a space went
    missing. PubMed writes one processing instruction (``<?pmcsd ?>``, in some records'
    PubmedData) and none of the rest; such records are built with every blank kept.
    """
    if b"\r" in chunk:
        return False
    # "<!" opens a comment or CDATA, "<?" a processing instruction. A one-byte search is a
    # memchr, far cheaper than a two-byte one, and "!" and "?" are rare in a record.
    for mark in b"!?":
        at = chunk.find(mark)
        while at > 0:
            if chunk[at - 1] == 60:  # "<"
                return False
            at = chunk.find(mark, at + 1)
    return True


def _split_events(source: IO[bytes]) -> Iterator[dict]:
    stream = _Blocks(source)
    buf = b""
    eof = False
    try:
        while len(buf) < 4096 and not eof:
            block = stream.read(_BLOCK)
            buf += block
            eof = not block
    except _INPUT_ERRORS as exc:
        yield quarantine(None, f"input broken at byte {len(buf)} after 0 records: {type(exc).__name__}: {exc}", "")
        return
    prolog = _PROLOG.match(buf)
    if prolog is None or not _UTF8_DECLARATION.search(prolog.group(1) or b""):
        yield from _iterparse_events(_Prefixed(buf, stream))
        return
    if prolog.group(2):  # <PubmedArticleSet/>: an empty result set
        return

    fast, exact = BlanklessParser(**_OPTIONS), etree.XMLParser(**_OPTIONS)
    pos, offset = prolog.end(), 0  # offset: where buf[0] sits in the whole stream
    count, last_pmid = 0, None

    def broken(what: str, partial: bytes = b"") -> dict:
        start = _START.match(partial)
        return quarantine(
            _pmid_in(partial) if start else None,
            f"input broken at byte {offset + len(buf)} after {count} records (last PMID read: {last_pmid}): {what}",
            _decoded(partial) if start else "",
        )

    try:
        while True:
            pos = _SPACE.match(buf, pos).end()
            if len(buf) - pos < _LOOKAHEAD and not eof:
                block = stream.read(_BLOCK)
                buf, offset, pos, eof = buf[pos:] + block, offset + pos, 0, not block
                continue
            start = _START.match(buf, pos)
            if start is None:
                if _SET_END.match(buf, pos):
                    yield from _after_root(stream, buf[_SET_END.match(buf, pos).end():], count, last_pmid,
                                           offset + pos)
                    return
                if eof:
                    rest = buf[pos:]
                    inside = next((n.decode() for n in _END_TAGS if rest and (b"<" + n).startswith(rest)), None)
                    yield broken(f"the document ends inside <{inside}>" if inside
                                 else "the document ends before </PubmedArticleSet>", rest)
                    return
                # Not the usual layout from here on: iterparse takes the rest, as one document.
                rest = _Prefixed(b"<PubmedArticleSet>" + buf[pos:], stream)
                yield from _iterparse_events(rest, count, last_pmid, f" of the input from byte {offset + pos}")
                return
            end_tag = _END_TAGS[start.group(1)]
            stop = buf.find(end_tag, start.end())
            while stop < 0:
                if eof:
                    yield broken(f"the document ends inside <{start.group(1).decode()}>", buf[pos:])
                    return
                searched = len(buf) - pos
                block = stream.read(_BLOCK)
                buf, offset, pos, eof = buf[pos:] + block, offset + pos, 0, not block
                start = _START.match(buf, 0)
                stop = buf.find(end_tag, max(start.end(), searched - len(end_tag)))
            stop += len(end_tag)
            chunk = _trimmed(buf, pos, stop)
            event = None
            if _blanks_are_layout(chunk):
                try:
                    event = record_event(etree.fromstring(chunk, fast))
                except etree.LxmlError:
                    pass
            if event is None or event["kind"] == "quarantine":
                # Read again from a tree that kept every blank: the same record either reads
                # the same or fails the same way, with the raw text as the document has it.
                try:
                    event = record_event(etree.fromstring(chunk, exact))
                except etree.LxmlError as exc:
                    event = quarantine(
                        _pmid_in(chunk),
                        f"record at byte {offset + pos} (after {count} records) is not well-formed XML: {exc}",
                        _decoded(chunk),
                    )
            pos = stop
            count += 1
            if event.get("pmid") is not None:
                last_pmid = event["pmid"]
            yield event
    except _INPUT_ERRORS as exc:
        yield broken(f"{type(exc).__name__}: {exc}", buf[pos:])


def _after_root(stream: IO[bytes], rest: bytes, count: int, last_pmid, where: int) -> Iterator[dict]:
    # XML allows only whitespace, comments and processing instructions after the root element.
    try:
        while True:
            rest = rest.strip(b" \t\r\n")
            if rest and not rest.startswith((b"<!--", b"<?")):
                yield quarantine(None, f"input broken at byte {where} after {count} records (last PMID read: "
                                       f"{last_pmid}): content after </PubmedArticleSet>", _decoded(rest))
                return
            if rest:  # a trailing comment or PI: nothing PubMed writes, nothing to read
                return
            rest = stream.read(_BLOCK)
            if not rest:
                return
    except _INPUT_ERRORS as exc:
        yield quarantine(None, f"input broken at byte {where} after {count} records (last PMID read: "
                               f"{last_pmid}): {type(exc).__name__}: {exc}", "")


# ---------------------------------------------------------------- the iterparse route


def _broken_input(exc: Exception, root, last, count: int, last_pmid, origin: str) -> dict:
    # The record being read when the input broke is already attached to the root: it is the
    # best evidence of what was lost.
    partial = root[-1] if root is not None and len(root) else None
    where = f" at line {exc.lineno}{origin}" if isinstance(exc, etree.XMLSyntaxError) else ""
    reason = (
        f"input broken{where} after {count} records (last PMID read: {last_pmid}): "
        f"{type(exc).__name__}: {exc}"
    )
    if partial is None or partial is last:
        return quarantine(None, reason, "")
    pmid = partial.findtext("MedlineCitation/PMID") or partial.findtext("BookDocument/PMID") or ""
    return quarantine(int(pmid) if pmid.strip().isdigit() else None, reason, raw_text(partial))


def _iterparse_events(stream, count: int = 0, last_pmid=None, origin: str = "") -> Iterator[dict]:
    context = etree.iterparse(stream, events=("end",), tag=RECORD_TAGS, **_OPTIONS)
    root = last = None
    try:
        for _, el in context:
            parent = el.getparent()
            if root is None:
                root = parent
            event = record_event(el)
            el.clear()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
            last = el
            count += 1
            if event.get("pmid") is not None:
                last_pmid = event["pmid"]
            yield event
    except _INPUT_ERRORS as exc:
        yield _broken_input(exc, root, last, count, last_pmid, origin)
        return
    if context.root is not None and context.root.tag not in _ACCEPTED_ROOTS:
        yield quarantine(
            None,
            f"not a PubMed document: root element is <{context.root.tag}>, expected <PubmedArticleSet>",
            raw_text(context.root),
        )


# ---------------------------------------------------------------- public API


def _open(source: Source) -> tuple[IO[bytes], list[IO[bytes]]]:
    """A binary stream over ``source``, gunzipped when it starts with the gzip magic.

    Returns the stream and the handles opened here (to close). A caller's own file object is
    read as it is.
    """
    if isinstance(source, (str, os.PathLike)):
        handle: IO[bytes] = open(source, "rb")
    elif isinstance(source, (bytes, bytearray, memoryview)):
        handle = io.BytesIO(bytes(source))
    else:
        return source, []
    if handle.read(2) == _GZIP_MAGIC:
        handle.seek(0)
        unzipped = gzip.GzipFile(fileobj=handle, mode="rb")
        return unzipped, [unzipped, handle]
    handle.seek(0)
    return handle, [handle]


def iter_pubmed(source: Source) -> Iterator[dict]:
    """Yield ``article`` / ``delete`` / ``quarantine`` dicts from a PubmedArticleSet document.

    ``source`` is a path (gzipped or not), the document's bytes, or a binary file object.
    Nothing the document contains makes this raise; a missing path does (FileNotFoundError).
    """
    stream, opened = _open(source)
    try:
        yield from _split_events(stream)
    finally:
        for handle in opened:
            handle.close()


def parse_bytes(data: bytes) -> list[dict]:
    """Every event of an in-memory document (an efetch response body), as a list."""
    return list(iter_pubmed(data))
