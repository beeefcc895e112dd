"""Streaming parser for PubMed XML: efetch responses, NLM baseline and daily update files.

``iter_pubmed`` walks a ``PubmedArticleSet`` with lxml's ``iterparse`` and yields one plain dict
per record, shaped as docs/record-format.md describes. Only the record being read is alive: each
one is cleared and detached from the root as soon as its dict is built, so memory stays flat on
the 233 MB update files. A failure inside one record becomes a ``quarantine`` event naming the
PMID and the record-format field, and the stream goes on; input that stops being XML (truncated
download, HTML error page, gzip garbage) ends the stream with one ``quarantine`` event instead of
an exception.

Speed: libxml2 builds each record's tree in C; what costs is every element Python touches. So
each level is read by one pass over its children with an if-chain on the tag (ordered by how
often the tag occurs), never per-field ``find``/XPath calls that rescan the same children, and
subtrees nothing needs (ReferenceList, GrantList, InvestigatorList …) are never entered.
"""
from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from datetime import date
from typing import IO, Iterator, Union

from lxml import etree

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes]]

RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation")
RAW_LIMIT = 2000
_ACCEPTED_ROOTS = frozenset(("PubmedArticleSet",) + RECORD_TAGS)
_GZIP_MAGIC = b"\x1f\x8b"
# What reading the input itself can raise, as opposed to reading one record's fields.
_INPUT_ERRORS = (etree.LxmlError, OSError, EOFError, zlib.error)


class RecordError(Exception):
    """One field of one record could not be read; ``field`` is the record-format key."""

    def __init__(self, field: str, cause: BaseException | str):
        detail = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"{field}: {detail}")
        self.field = field


# ---------------------------------------------------------------- dates

_MONTHS = {}
for _number, _names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")),
    start=1,
):
    for _name in _names:
        _MONTHS[_name] = _number

# A date range is placed at the month it starts ("1998 Dec-1999 Jan" is December 1998), and a
# season is a range too, so it gets the month its meteorological season starts: Spring = March,
# Summer = June, Fall/Autumn = September, Winter = December. That keeps "2000 Winter" in 2000,
# the year the journal printed, instead of moving it to January of either neighbouring year.
_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}

_YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_WORD_RE = re.compile(r"[A-Za-z]+")
_QUARTER_RE = re.compile(r"\b([1-4])\s*(?:st|nd|rd|th)\s+quarter\b", re.IGNORECASE)


def month_number(text: str | None) -> int | None:
    """``"Feb"``, ``"February"``, ``"02"`` or ``"2"`` → 2; a season → its first month; else None."""
    if not text:
        return None
    word = text.strip().lower()
    if word.isdigit():
        number = int(word)
        return number if 1 <= number <= 12 else None
    return _MONTHS.get(word) or _SEASONS.get(word)


def medline_date(text: str) -> tuple[int | None, int | None]:
    """Year and first month of a free-text ``MedlineDate``.

    ``"1998 Dec-1999 Jan"`` → (1998, 12); ``"2000 Winter"`` → (2000, 12); ``"1977-1978"`` →
    (1977, None); ``"2021 3rd Quarter"`` → (2021, 7). The first four-digit number is the year
    and the first month, season or quarter named is the month.
    """
    found = _YEAR_RE.search(text)
    year = int(found.group(1)) if found else None
    quarter = _QUARTER_RE.search(text)
    if quarter:
        return year, 3 * int(quarter.group(1)) - 2
    for word in _WORD_RE.findall(text):
        month = month_number(word)
        if month:
            return year, month
    return year, None


def _iso_date(el) -> str:
    # The DTD fixes the order (Year, Month, Day, then optional Hour/Minute), so position is
    # enough; a malformed date fails here and quarantines its record.
    return date(int(el[0].text), int(el[1].text), int(el[2].text)).isoformat()


def _pub_date(el, out: dict) -> None:
    year = month = day = season = None
    for part in el:
        tag = part.tag
        if tag == "Year":
            year = _text(part)
        elif tag == "Month":
            month = _text(part)
        elif tag == "Day":
            day = _text(part)
        elif tag == "MedlineDate":
            raw = _text(part)
            out["pub_date_raw"] = raw
            out["pub_year"], out["pub_month"] = medline_date(raw)
            return
        elif tag == "Season":
            season = _text(part)
    out["pub_date_raw"] = " ".join([p for p in (year, month or season, day) if p])
    out["pub_year"] = int(year) if year else None
    if month:
        out["pub_month"] = month_number(month)
        if out["pub_month"] is None:
            raise ValueError(f"unknown Month {month!r}")
    else:
        out["pub_month"] = month_number(season)


# ---------------------------------------------------------------- text


def _flat(el) -> str:
    """Element text with inline markup (<i>, <sup>, MathML …) flattened away."""
    if len(el):
        # Marked-up text carries MathML's layout whitespace; one space per run reads right.
        return " ".join("".join(el.itertext()).split())
    text = el.text
    return text.strip() if text else ""


def _text(el) -> str:
    text = el.text
    return text.strip() if text else ""


# ---------------------------------------------------------------- sections
# Lists whose DTD allows one child type (AuthorList, MeshHeadingList …) are read without
# checking each child's tag: that check is a measurable share of the whole parse.


def _abstract(el, out: dict) -> None:
    sections = out["abstract_sections"]
    lines = []
    for part in el:
        if part.tag != "AbstractText":
            continue
        text = _flat(part)
        label = part.get("Label")
        sections.append(
            {"idx": len(sections), "label": label, "nlm_category": part.get("NlmCategory"), "text": text}
        )
        lines.append(f"{label}: {text}" if label else text)
    out["abstract"] = "\n".join(lines)


_AUTHOR_PARTS = ("Author", "LastName", "ForeName", "Initials", "Affiliation", "CollectiveName")


def _authors(el, authors: list) -> None:
    # Book chapters list the book's editors in an AuthorList of their own; they did not write it.
    if el.get("Type") == "editors":
        return
    # One filtered walk over the list (libxml2 skips Identifier, Suffix … in C) is cheaper than
    # a Python loop per author. Affiliation is matched both inside AffiliationInfo and straight
    # under Author, where the 2014 DTD put it.
    author = None
    for part in el.iter(_AUTHOR_PARTS):
        tag = part.tag
        if tag == "Author":
            author = {
                "position": len(authors) + 1, "last_name": None, "fore_name": None,
                "initials": None, "collective_name": None, "affiliations": [],
            }
            authors.append(author)
        elif tag == "LastName":
            author["last_name"] = part.text
        elif tag == "ForeName":
            author["fore_name"] = part.text
        elif tag == "Initials":
            author["initials"] = part.text
        elif tag == "Affiliation":
            author["affiliations"].append(_flat(part))
        else:
            author["collective_name"] = _flat(part)


def _mesh(el, mesh: list) -> None:
    for heading in el:
        descriptor = heading[0]
        if descriptor.tag != "DescriptorName":
            raise ValueError(f"MeshHeading starts with <{descriptor.tag}>, not <DescriptorName>")
        mesh.append({
            "descriptor_ui": descriptor.get("UI"), "descriptor": _text(descriptor),
            "major": descriptor.get("MajorTopicYN") == "Y",
            "qualifiers": [
                {"ui": q.get("UI"), "name": _text(q), "major": q.get("MajorTopicYN") == "Y"}
                for q in heading.iterchildren("QualifierName")
            ],
        })


def _chemicals(el, chemicals: list) -> None:
    for chemical in el:
        entry = {"ui": None, "name": "", "registry_number": None}
        for part in chemical:
            if part.tag == "NameOfSubstance":
                entry["ui"] = part.get("UI")
                entry["name"] = _text(part)
            else:
                entry["registry_number"] = _text(part)
        chemicals.append(entry)


def _keywords(el, keywords: list) -> None:
    for part in el:
        keyword = _flat(part)
        if keyword:
            keywords.append(keyword)


def _comments_corrections(el, links: list) -> None:
    for link in el:
        pmid = source = None
        for part in link:
            if part.tag == "PMID":
                pmid = int(part.text)
            elif part.tag == "RefSource":
                source = _text(part)
        links.append({"ref_type": link.get("RefType"), "pmid": pmid, "ref_source": source})


def _article_ids(el, out: dict) -> None:
    for part in el:
        id_type = part.get("IdType")
        if id_type == "doi":
            if out["doi"] is None:
                out["doi"] = _text(part)
        elif id_type == "pmc":
            if out["pmc"] is None:
                out["pmc"] = _text(part)


def _history(el, out: dict) -> None:
    pubmed = None
    for stamp in el:
        status = stamp.get("PubStatus")
        if status == "entrez":
            out["entrez_date"] = _iso_date(stamp)
            return
        if status == "pubmed":
            pubmed = stamp
    # Records indexed before "entrez" stamps existed carry only the "pubmed" one.
    if pubmed is not None:
        out["entrez_date"] = _iso_date(pubmed)


def _publication_types(parts, out: dict) -> None:
    out["publication_types"].extend({"ui": p.get("UI"), "name": _text(p)} for p in parts)


# ---------------------------------------------------------------- records


def _new_article(is_book: bool) -> dict:
    return {
        "kind": "article", "pmid": None, "pmid_version": 1, "title": "", "abstract": "",
        "abstract_sections": [], "journal": "", "journal_iso": "", "pub_year": None,
        "pub_month": None, "pub_date_raw": "", "electronic_date": None, "entrez_date": None,
        "date_revised": None, "languages": [], "doi": None, "pmc": None, "authors": [],
        "publication_types": [], "mesh": [], "chemicals": [], "keywords": [],
        "indexing_method": None, "citation_status": "", "publication_status": None,
        "comments_corrections": [], "is_retracted": False, "is_book": is_book,
    }


def _pmid(el, out: dict) -> None:
    out["pmid"] = int(el.text)
    out["pmid_version"] = int(el.get("Version") or 1)


# The MedlineCitation elements a record is built from. libxml2 walks the subtree in C and hands
# Python only these, in document order; context the tag alone does not give (whose LastName,
# which AbstractText) comes from the elements seen before it.
_CITATION_TAGS = (
    "LastName", "ForeName", "Initials", "Author", "Affiliation", "CollectiveName", "Investigator",
    "PersonalNameSubject", "Keyword", "AbstractText", "OtherAbstract", "DescriptorName",
    "QualifierName", "PublicationType", "ELocationID", "Language", "PMID", "DateRevised",
    "ArticleDate", "PubDate", "Title", "ISOAbbreviation", "ArticleTitle", "VernacularTitle",
    "RegistryNumber", "NameOfSubstance", "CommentsCorrections", "RefSource",
)
# The record-format key to name when the element with this tag cannot be read.
_FIELD_OF_TAG = {
    "LastName": "authors", "ForeName": "authors", "Initials": "authors", "Author": "authors",
    "Affiliation": "authors", "CollectiveName": "authors", "Keyword": "keywords",
    "AbstractText": "abstract", "DescriptorName": "mesh", "QualifierName": "mesh",
    "PublicationType": "publication_types", "ELocationID": "doi", "Language": "languages",
    "PMID": "pmid", "DateRevised": "date_revised", "ArticleDate": "electronic_date",
    "PubDate": "pub_year", "Title": "journal", "ISOAbbreviation": "journal_iso",
    "ArticleTitle": "title", "VernacularTitle": "title", "RegistryNumber": "chemicals",
    "NameOfSubstance": "chemicals", "CommentsCorrections": "comments_corrections",
    "RefSource": "comments_corrections",
}
# Where an Affiliation or a name belongs while walking the citation.
_BEFORE_AUTHORS, _IN_AUTHORS, _PAST_AUTHORS = 0, 1, 2


def _citation(citation, out: dict, extra: dict) -> None:
    out["citation_status"] = citation.get("Status") or ""
    out["indexing_method"] = citation.get("IndexingMethod")
    authors = out["authors"]
    author = heading = chemical = link = None
    stage = _BEFORE_AUTHORS
    other_abstract = False
    tag = "PMID"
    try:
        for el in citation.iter(_CITATION_TAGS):
            tag = el.tag
            if stage == _IN_AUTHORS:
                if tag == "LastName":
                    author["last_name"] = el.text
                    continue
                if tag == "ForeName":
                    author["fore_name"] = el.text
                    continue
                if tag == "Initials":
                    author["initials"] = el.text
                    continue
                if tag == "Affiliation":
                    author["affiliations"].append(_flat(el))
                    continue
            if tag == "Author":
                if stage == _PAST_AUTHORS:
                    continue
                stage = _IN_AUTHORS
                author = {
                    "position": len(authors) + 1, "last_name": None, "fore_name": None,
                    "initials": None, "collective_name": None, "affiliations": [],
                }
                authors.append(author)
            elif tag == "Keyword":
                keyword = _flat(el)
                if keyword:
                    out["keywords"].append(keyword)
            elif tag == "AbstractText":
                if not other_abstract:
                    _abstract_text(el, out)
            elif tag == "DescriptorName":
                heading = {
                    "descriptor_ui": el.get("UI"), "descriptor": _text(el),
                    "major": el.get("MajorTopicYN") == "Y", "qualifiers": [],
                }
                out["mesh"].append(heading)
            elif tag == "QualifierName":
                heading["qualifiers"].append(
                    {"ui": el.get("UI"), "name": _text(el), "major": el.get("MajorTopicYN") == "Y"}
                )
            elif tag == "PublicationType":
                out["publication_types"].append({"ui": el.get("UI"), "name": _text(el)})
            elif tag == "ELocationID":
                if el.get("EIdType") == "doi" and "doi" not in extra:
                    extra["doi"] = _text(el)
            elif tag == "Language":
                out["languages"].append(_text(el))
            elif tag == "PMID":
                if link is not None:
                    link["pmid"] = int(el.text)
                elif out["pmid"] is None:
                    out["pmid"] = int(el.text)
                    out["pmid_version"] = int(el.get("Version") or 1)
            elif tag == "DateRevised":
                out["date_revised"] = _iso_date(el)
            elif tag == "ArticleDate":
                if el.get("DateType", "Electronic") == "Electronic":
                    out["electronic_date"] = _iso_date(el)
            elif tag == "PubDate":
                _pub_date(el, out)
            elif tag == "Title":
                out["journal"] = _text(el)
            elif tag == "ISOAbbreviation":
                out["journal_iso"] = _text(el)
            elif tag == "ArticleTitle":
                out["title"] = _flat(el)
            elif tag == "VernacularTitle":
                extra["title"] = _flat(el)
            elif tag == "CollectiveName":
                if stage == _IN_AUTHORS:
                    author["collective_name"] = _flat(el)
            elif tag == "Affiliation":
                # Before 2014 one Article/Affiliation, ahead of the AuthorList, held the first
                # author's; later ones belong to investigators.
                if stage == _BEFORE_AUTHORS:
                    extra["affiliation"] = _flat(el)
            elif tag == "Investigator" or tag == "PersonalNameSubject":
                stage = _PAST_AUTHORS
            elif tag == "OtherAbstract":
                other_abstract = True
            elif tag == "RegistryNumber":
                chemical = {"ui": None, "name": "", "registry_number": _text(el)}
                out["chemicals"].append(chemical)
            elif tag == "NameOfSubstance":
                chemical["ui"] = el.get("UI")
                chemical["name"] = _text(el)
            elif tag == "CommentsCorrections":
                link = {"ref_type": el.get("RefType"), "pmid": None, "ref_source": None}
                out["comments_corrections"].append(link)
            elif tag == "RefSource":
                link["ref_source"] = _text(el)
    except Exception as exc:  # any slip in one field quarantines the record, naming the field
        raise RecordError(_FIELD_OF_TAG.get(tag, tag), exc) from exc


def _abstract_text(el, out: dict) -> None:
    text = _flat(el)
    label = el.get("Label")
    sections = out["abstract_sections"]
    sections.append(
        {"idx": len(sections), "label": label, "nlm_category": el.get("NlmCategory"), "text": text}
    )
    line = f"{label}: {text}" if label else text
    out["abstract"] = f"{out['abstract']}\n{line}" if len(sections) > 1 else line


def _journal_article(rec, out: dict) -> dict:
    """Fill ``out`` from a <PubmedArticle>; returns fallbacks _finish() still has to apply."""
    extra = {}
    for part in rec:
        if part.tag == "MedlineCitation":
            _citation(part, out, extra)
        elif part.tag == "PubmedData":
            _pubmed_data(part, out)
    return extra


def _pubmed_data(el, out: dict) -> None:
    for part in el:
        tag = part.tag
        try:
            if tag == "History":
                _history(part, out)
            elif tag == "ArticleIdList":
                _article_ids(part, out)
            elif tag == "PublicationStatus":
                out["publication_status"] = _text(part)
        except Exception as exc:
            raise RecordError({"History": "entrez_date", "ArticleIdList": "doi"}.get(
                tag, "publication_status"), exc) from exc


def _book_article(rec, out: dict) -> dict:
    """Fill ``out`` from a <PubmedBookArticle> (GeneReviews, StatPearls …).

    Books are read into the same shape: BookTitle stands in for the journal, Book/PubDate for
    the issue date, and the chapter's AuthorList for the authors. They carry no MeSH and no
    citation status, so those stay empty.
    """
    extra = {}
    field = "record"
    try:
        for part in rec:
            if part.tag == "PubmedBookData":
                _pubmed_data(part, out)
                continue
            if part.tag != "BookDocument":
                continue
            for child in part:
                tag = child.tag
                field = tag
                if tag == "PMID":
                    field = "pmid"
                    _pmid(child, out)
                elif tag == "Book":
                    field = "journal"
                    for sub in child:
                        if sub.tag == "BookTitle":
                            out["journal"] = _flat(sub)
                        elif sub.tag == "PubDate":
                            field = "pub_year"
                            _pub_date(sub, out)
                elif tag == "ArticleTitle":
                    field = "title"
                    out["title"] = _flat(child)
                elif tag == "VernacularTitle":
                    field = "title"
                    extra["title"] = _flat(child)
                elif tag == "AuthorList":
                    field = "authors"
                    _authors(child, out["authors"])
                elif tag == "Abstract":
                    field = "abstract"
                    _abstract(child, out)
                elif tag == "Language":
                    out["languages"].append(_text(child))
                elif tag == "PublicationType":
                    field = "publication_types"
                    _publication_types([child], out)
                elif tag == "KeywordList":
                    field = "keywords"
                    _keywords(child, out["keywords"])
                elif tag == "DateRevised":
                    field = "date_revised"
                    out["date_revised"] = _iso_date(child)
                elif tag == "ArticleIdList":
                    field = "doi"
                    _article_ids(child, out)
    except RecordError:
        raise
    except Exception as exc:
        raise RecordError(field, exc) from exc
    if not out["title"] and not extra.get("title"):
        extra["title"] = out["journal"]  # a whole-book record is titled by the book
    return extra


def _finish(out: dict, extra: dict) -> None:
    if extra:
        if not out["title"]:
            out["title"] = extra.get("title", "")
        if out["doi"] is None:
            out["doi"] = extra.get("doi")
        affiliation = extra.get("affiliation")
        if affiliation and out["authors"] and not out["authors"][0]["affiliations"]:
            out["authors"][0]["affiliations"].append(affiliation)
    for link in out["comments_corrections"]:
        if link["ref_type"] == "RetractionIn":
            out["is_retracted"] = True
            return
    for kind in out["publication_types"]:
        if kind["name"] == "Retracted Publication":
            out["is_retracted"] = True
            return


def _raw(el) -> str:
    return etree.tostring(el, encoding="unicode")[:RAW_LIMIT]


def _quarantine(pmid, reason: str, raw: str) -> dict:
    return {"kind": "quarantine", "pmid": pmid, "reason": reason, "raw": raw}


def _delete_event(el) -> dict:
    pmids = []
    for part in el:
        text = part.text
        if part.tag != "PMID" or not (text and text.strip().isdigit()):
            return _quarantine(None, f"DeleteCitation: <{part.tag}> {text!r} is not a PMID", _raw(el))
        pmids.append(int(text))
    return {"kind": "delete", "pmids": pmids}


def _event(el) -> dict:
    tag = el.tag
    if tag == "DeleteCitation":
        return _delete_event(el)
    is_book = tag == "PubmedBookArticle"
    out = _new_article(is_book)
    try:
        extra = _book_article(el, out) if is_book else _journal_article(el, out)
    except RecordError as exc:
        return _quarantine(out["pmid"], str(exc), _raw(el))
    if out["pmid"] is None:
        where = "BookDocument/PMID" if is_book else "MedlineCitation/PMID"
        return _quarantine(None, f"pmid: missing {where}", _raw(el))
    _finish(out, extra)
    return out


def _pmid_of(el) -> int | None:
    text = el.findtext("MedlineCitation/PMID") or el.findtext("BookDocument/PMID") or ""
    return int(text) if text.strip().isdigit() else None


def _broken_input(exc: Exception, root, last, count: int, last_pmid) -> dict:
    # The record being read when the input broke is already attached to the root: it is the
    # best evidence of what was lost.
    partial = root[-1] if root is not None and len(root) else None
    if partial is last:
        partial = None
    where = f" at line {exc.lineno}" if isinstance(exc, etree.XMLSyntaxError) else ""
    reason = (
        f"input broken{where} after {count} records (last PMID read: {last_pmid}): "
        f"{type(exc).__name__}: {exc}"
    )
    if partial is None:
        return _quarantine(None, reason, "")
    return _quarantine(_pmid_of(partial), reason, _raw(partial))


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
        yield from _events(stream)
    finally:
        for handle in opened:
            handle.close()


def _events(stream: IO[bytes]) -> Iterator[dict]:
    context = etree.iterparse(
        stream, events=("end",), tag=RECORD_TAGS, recover=False, remove_comments=True,
        remove_pis=True, resolve_entities=False, no_network=True,
    )
    root = last = last_pmid = None
    count = 0
    try:
        for _, el in context:
            parent = el.getparent()
            if root is None:
                root = parent
            event = _event(el)
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
        yield _broken_input(exc, root, last, count, last_pmid)
        return
    if context.root is not None and context.root.tag not in _ACCEPTED_ROOTS:
        yield _quarantine(
            None,
            f"not a PubMed document: root element is <{context.root.tag}>, expected <PubmedArticleSet>",
            _raw(context.root),
        )


def parse_bytes(data: bytes) -> list[dict]:
    """Every event of an in-memory document (an efetch response body), as a list."""
    return list(iter_pubmed(data))
