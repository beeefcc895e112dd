"""One PubMed record's XML element → the plain dict docs/record-format.md describes.

``record_event`` reads a ``<PubmedArticle>``, ``<PubmedBookArticle>`` or ``<DeleteCitation>``
element that libxml2 has already built. A failure inside one record becomes a ``quarantine``
event naming the PMID and the record-format field.

Speed: libxml2 builds each record's tree in C; what costs is every element Python touches. So
each level is read in one pass over its children with an if-chain on the tag, most frequent tag
first, never with per-field ``find``/XPath calls that rescan the same children; subtrees nothing
needs (ReferenceList, GrantList, InvestigatorList …) are never entered.
"""
from __future__ import annotations

import re
from datetime import date

from lxml import etree

RAW_LIMIT = 2000

# The record-format key a quarantine names when the element with this tag cannot be read.
_FIELD_OF_TAG = {
    "PMID": "pmid", "DateRevised": "date_revised", "Article": "article",
    "KeywordList": "keywords", "MeshHeadingList": "mesh", "ChemicalList": "chemicals",
    "CommentsCorrectionsList": "comments_corrections", "AuthorList": "authors",
    "Affiliation": "authors", "Abstract": "abstract", "Journal": "pub_year", "Book": "pub_year",
    "ArticleTitle": "title", "VernacularTitle": "title", "ELocationID": "doi",
    "ArticleIdList": "doi", "Language": "languages", "PublicationTypeList": "publication_types",
    "PublicationType": "publication_types", "ArticleDate": "electronic_date",
    "History": "entrez_date", "PublicationStatus": "publication_status",
}


class RecordError(Exception):
    """One field of one record could not be read; ``field`` is the record-format key."""

    def __init__(self, field: str, cause: Exception):
        super().__init__(f"{field}: {type(cause).__name__}: {cause}")
        self.field = field


# ---------------------------------------------------------------- dates

_MONTHS = {
    name: number
    for number, names in enumerate(
        (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")),
        start=1,
    )
    for name in names
}
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


_ISO_DATES: dict = {}


def _iso_date(el) -> str:
    # The DTD fixes the order (Year, Month, Day, then optional Hour/Minute), so position is
    # enough; a malformed date fails here and quarantines its record. A file's records share
    # a few hundred dates, so each is checked and formatted once.
    key = (el[0].text, el[1].text, el[2].text)
    iso = _ISO_DATES.get(key)
    if iso is None:
        iso = date(int(key[0]), int(key[1]), int(key[2])).isoformat()
        if len(_ISO_DATES) > 50_000:
            _ISO_DATES.clear()
        _ISO_DATES[key] = iso
    return iso


_PUB_DATES: dict = {}


def _pub_date(el, out: dict) -> None:
    # Journals print a few hundred distinct dates per file: each is read once per process.
    key = tuple([(part.tag, part.text) for part in el])
    found = _PUB_DATES.get(key)
    if found is None:
        found = _read_pub_date(key)
        if len(_PUB_DATES) > 50_000:
            _PUB_DATES.clear()
        _PUB_DATES[key] = found
    out["pub_date_raw"], out["pub_year"], out["pub_month"] = found


def _read_pub_date(parts: tuple) -> tuple:
    """(raw, year, month) of a PubDate's (tag, text) pairs; an unknown Month raises."""
    year = month = day = season = None
    for tag, text in parts:
        text = text.strip() if text else ""
        if tag == "Year":
            year = text
        elif tag == "Month":
            month = text
        elif tag == "Day":
            day = text
        elif tag == "MedlineDate":
            return (text, *medline_date(text))
        elif tag == "Season":
            season = text
    pub_month = month_number(month or season)
    if month and pub_month is None:
        raise ValueError(f"unknown Month {month!r}")
    return " ".join([p for p in (year, month or season, day) if p]), int(year) if year else None, pub_month


# ---------------------------------------------------------------- text


class BlanklessParser(etree.XMLParser):
    """An XMLParser that drops whitespace-only text between elements (libxml2's NOBLANKS).

    Pretty-printed PubMed XML is a quarter indentation, and each run is a text node libxml2
    builds and Python steps over; without them a record builds about a fifth faster. Fields
    never read that whitespace, except through a flaw of libxml2's test for it, which has no DTD
    to go by: in text that opens with an element, a space between two inline elements
    (``<i>a</i> <i>b</i>``) is dropped too. Readers of a tree this parser built check for that
    shape (``_lost_blanks``) and fail the record, whose caller then builds it again with a
    parser that keeps every character. So a record read from either tree reads the same. (A
    blank dropped before a comment, CDATA, processing instruction or carriage return leaves no
    such shape: the caller keeps records holding any of those away from this parser.)
    """

    def __init__(self, **options):
        super().__init__(remove_blank_text=True, **options)


class BlanksDropped(ValueError):
    """Text in a tree built by ``BlanklessParser`` may have lost a space that counts."""


def _lost_blanks(el, ends_trimmed: bool = True) -> None:
    # libxml2 keeps every blank in an element whose first node is text. In any other element
    # it may have dropped one before, between or after the child elements; at either end of
    # text that is trimmed anyway, a lost blank changes nothing. Only trees from
    # BlanklessParser dropped any.
    if type(el.getroottree().parser) is BlanklessParser:
        for part in el.iter():
            if part.text is None and len(part):
                if part is not el or not ends_trimmed or any(child.tail is None for child in part[:-1]):
                    raise BlanksDropped(f"<{el.tag}> must be read with every blank kept")


def _flat(el) -> str:
    """Element text with inline markup (<i>, <sup>, MathML …) flattened away."""
    if len(el):
        _lost_blanks(el)
        text = etree.tostring(el, method="text", encoding="unicode", with_tail=False)
        # Marked-up text carries MathML's layout whitespace; one space per run reads right.
        # Most marked-up text has no run to collapse: every whitespace character but the space
        # is unprintable, so printable text without a double or edge space is already in shape
        # (splitting a whole abstract into words only to join them costs far more).
        if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
            return text
        return " ".join(text.split())
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
    # One filtered walk over the list (libxml2 skips Identifier, Suffix … in C) instead of a
    # Python loop per author. Affiliation matches inside AffiliationInfo and also straight under
    # Author, where the 2014 DTD put it.
    author = affiliations = None
    for part in el.iter(_AUTHOR_PARTS):
        tag = part.tag
        if tag == "Affiliation":
            if len(part):
                affiliations.append(_flat(part))
            else:
                text = part.text
                affiliations.append(text.strip() if text else "")
        elif tag == "LastName":
            author["last_name"] = text = part.text
            if text is None and len(part):
                _lost_blanks(part, ends_trimmed=False)
        elif tag == "ForeName":
            author["fore_name"] = text = part.text
            if text is None and len(part):
                _lost_blanks(part, ends_trimmed=False)
        elif tag == "Initials":
            author["initials"] = text = part.text
            if text is None and len(part):
                _lost_blanks(part, ends_trimmed=False)
        elif tag == "Author":
            affiliations = []
            author = {
                "position": len(authors) + 1, "last_name": None, "fore_name": None,
                "initials": None, "collective_name": None, "affiliations": affiliations,
            }
            authors.append(author)
        else:
            author["collective_name"] = _flat(part)


def _mesh(el, mesh: list) -> None:
    # One filtered walk over the list, not a loop per heading; every MeshHeading must open with
    # its one DescriptorName, which the count and the first-tag checks enforce.
    before = len(mesh)
    qualifiers = None
    for part in el.iter("DescriptorName", "QualifierName"):
        if part.tag == "DescriptorName":
            if part.getprevious() is not None:
                raise ValueError(f"MeshHeading starts with <{part.getprevious().tag}>, not <DescriptorName>")
            qualifiers = []
            mesh.append({"descriptor_ui": part.get("UI"), "descriptor": _text(part),
                         "major": part.get("MajorTopicYN") == "Y", "qualifiers": qualifiers})
        elif qualifiers is None:
            raise ValueError("MeshHeading starts with <QualifierName>, not <DescriptorName>")
        else:
            qualifiers.append({"ui": part.get("UI"), "name": _text(part), "major": part.get("MajorTopicYN") == "Y"})
    if len(mesh) - before != len(el):
        raise ValueError(f"{len(el)} MeshHeading elements hold {len(mesh) - before} DescriptorName elements")


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
        if len(part):
            keyword = _flat(part)
        else:  # _flat's plain case, inline: a recent record has a dozen keywords
            keyword = part.text
            keyword = keyword.strip() if keyword else ""
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
    # Records from before "entrez" stamps existed carry only the "pubmed" one.
    if pubmed is not None:
        out["entrez_date"] = _iso_date(pubmed)


def _publication_type(el, out: dict) -> None:
    name = _text(el)
    out["publication_types"].append({"ui": el.get("UI"), "name": name})
    if name == "Retracted Publication":
        out["is_retracted"] = True


# ---------------------------------------------------------------- records
# Each reader fills the record dict ``out`` and parks fallbacks in ``extra`` (VernacularTitle,
# ELocationID DOI, pre-2014 Article/Affiliation) for _finish(), which runs once every field is
# known. A failure is re-raised as RecordError naming the field of the tag being read.


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


def _citation(el, out: dict, extra: dict) -> None:
    out["citation_status"] = el.get("Status") or ""
    out["indexing_method"] = el.get("IndexingMethod")
    tag = "PMID"
    try:
        for child in el:
            tag = child.tag
            if tag == "Article":
                _article(child, out, extra)
            elif tag == "PMID":
                _pmid(child, out)
            elif tag == "DateRevised":
                out["date_revised"] = _iso_date(child)
            elif tag == "KeywordList":
                _keywords(child, out["keywords"])
            elif tag == "MeshHeadingList":
                _mesh(child, out["mesh"])
            elif tag == "ChemicalList":
                _chemicals(child, out["chemicals"])
            elif tag == "CommentsCorrectionsList":
                _comments_corrections(child, out["comments_corrections"])
    except RecordError:
        raise
    except Exception as exc:
        raise RecordError(_FIELD_OF_TAG.get(tag, tag), exc) from exc


def _article(el, out: dict, extra: dict) -> None:
    tag = "Article"
    try:
        for item in el:
            tag = item.tag
            if tag == "AuthorList":
                _authors(item, out["authors"])
            elif tag == "Abstract":
                _abstract(item, out)
            elif tag == "Journal":
                for part in item:
                    name = part.tag
                    if name == "JournalIssue":
                        # A plain loop: iterchildren(tag) sets up a tag matcher per call.
                        for issue in part:
                            if issue.tag == "PubDate":
                                _pub_date(issue, out)
                    elif name == "Title":
                        out["journal"] = _text(part)
                    elif name == "ISOAbbreviation":
                        out["journal_iso"] = _text(part)
            elif tag == "ArticleTitle":
                out["title"] = _flat(item)
            elif tag == "ELocationID":
                if item.get("EIdType") == "doi" and "doi" not in extra:
                    extra["doi"] = _text(item)
            elif tag == "Language":
                out["languages"].append(_text(item))
            elif tag == "PublicationTypeList":
                for kind in item:
                    _publication_type(kind, out)
            elif tag == "ArticleDate":
                if item.get("DateType", "Electronic") == "Electronic":
                    out["electronic_date"] = _iso_date(item)
            elif tag == "VernacularTitle":
                extra["title"] = _flat(item)
            elif tag == "Affiliation":  # before 2014, the first author's affiliation
                extra["affiliation"] = _flat(item)
    except Exception as exc:
        raise RecordError(_FIELD_OF_TAG.get(tag, "article"), exc) from exc


def _pubmed_data(el, out: dict) -> None:
    tag = "History"
    try:
        for part in el:
            tag = part.tag
            if tag == "History":
                _history(part, out)
            elif tag == "ArticleIdList":
                _article_ids(part, out)
            elif tag == "PublicationStatus":
                out["publication_status"] = _text(part)
    except Exception as exc:
        raise RecordError(_FIELD_OF_TAG.get(tag, tag), exc) from exc


def _book_document(el, out: dict, extra: dict) -> None:
    """A <BookDocument> (GeneReviews, StatPearls …) read into the journal-article shape.

    BookTitle stands in for the journal and Book/PubDate for the issue date; a whole-book record
    without an ArticleTitle is titled by the book. Books carry no MeSH and no citation status.
    """
    tag = "PMID"
    try:
        for child in el:
            tag = child.tag
            if tag == "PMID":
                _pmid(child, out)
            elif tag == "Book":
                for part in child:
                    if part.tag == "BookTitle":
                        out["journal"] = extra["book_title"] = _flat(part)
                    elif part.tag == "PubDate":
                        _pub_date(part, out)
            elif tag == "ArticleTitle":
                out["title"] = _flat(child)
            elif tag == "VernacularTitle":
                extra["title"] = _flat(child)
            elif tag == "AuthorList":
                _authors(child, out["authors"])
            elif tag == "Abstract":
                _abstract(child, out)
            elif tag == "Language":
                out["languages"].append(_text(child))
            elif tag == "PublicationType":
                _publication_type(child, out)
            elif tag == "KeywordList":
                _keywords(child, out["keywords"])
            elif tag == "DateRevised":
                out["date_revised"] = _iso_date(child)
            elif tag == "ArticleIdList":
                _article_ids(child, out)
    except Exception as exc:
        raise RecordError(_FIELD_OF_TAG.get(tag, tag), exc) from exc


def _finish(out: dict, extra: dict) -> None:
    if extra:
        if not out["title"]:
            out["title"] = extra.get("title") or extra.get("book_title", "")
        if out["doi"] is None:
            out["doi"] = extra.get("doi")
        affiliation = extra.get("affiliation")
        if affiliation and out["authors"] and not out["authors"][0]["affiliations"]:
            out["authors"][0]["affiliations"].append(affiliation)
    # A "Retracted Publication" type already set the flag while publication types were read.
    if not out["is_retracted"] and out["comments_corrections"]:
        out["is_retracted"] = any(link["ref_type"] == "RetractionIn" for link in out["comments_corrections"])


def raw_text(el) -> str:
    return etree.tostring(el, encoding="unicode")[:RAW_LIMIT]


def quarantine(pmid, reason: str, raw: str) -> dict:
    return {"kind": "quarantine", "pmid": pmid, "reason": reason, "raw": raw}


def _delete_event(el) -> dict:
    pmids = []
    for part in el:
        text = part.text
        if part.tag != "PMID" or not (text and text.strip().isdigit()):
            return quarantine(None, f"DeleteCitation: <{part.tag}> {text!r} is not a PMID", raw_text(el))
        pmids.append(int(text))
    return {"kind": "delete", "pmids": pmids}


def record_event(el) -> dict:
    """The ``article``, ``delete`` or ``quarantine`` event for one record element."""
    tag = el.tag
    if tag == "DeleteCitation":
        return _delete_event(el)
    is_book = tag == "PubmedBookArticle"
    out = _new_article(is_book)
    extra: dict = {}
    try:
        for part in el:
            name = part.tag
            if name == "MedlineCitation":
                _citation(part, out, extra)
            elif name == "PubmedData" or name == "PubmedBookData":
                _pubmed_data(part, out)
            elif name == "BookDocument":
                _book_document(part, out, extra)
    except RecordError as exc:
        return quarantine(out["pmid"], str(exc), raw_text(el))
    if out["pmid"] is None:
        where = "BookDocument/PMID" if is_book else "MedlineCitation/PMID"
        return quarantine(None, f"pmid: missing {where}", raw_text(el))
    _finish(out, extra)
    return out
