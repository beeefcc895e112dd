"""pipeline.parse on real NLM XML (tests/fixtures/pubmed, origins in its README)."""
from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from pipeline import parse
from pipeline.parse import RAW_LIMIT, iter_pubmed, medline_date, month_number, parse_bytes

FIXTURES = Path(__file__).parent / "fixtures" / "pubmed"
UPDATE_2021 = FIXTURES / "pubmed21n1298_sample.xml.gz"
BASELINE_1977 = FIXTURES / "pubmed20n0014_sample.xml.gz"

ARTICLE_KEYS = {
    "kind", "pmid", "pmid_version", "title", "abstract", "abstract_sections", "journal",
    "journal_iso", "pub_year", "pub_month", "pub_date_raw", "electronic_date", "entrez_date",
    "date_revised", "languages", "doi", "pmc", "authors", "publication_types", "mesh",
    "chemicals", "keywords", "indexing_method", "citation_status", "publication_status",
    "comments_corrections", "is_retracted", "is_book",
}


def _articles(source) -> dict:
    """Article events keyed by PMID (the last version wins when a file repeats a PMID)."""
    return {e["pmid"]: e for e in iter_pubmed(source) if e["kind"] == "article"}


@pytest.fixture(scope="module")
def update_2021() -> dict:
    return _articles(UPDATE_2021)


@pytest.fixture(scope="module")
def baseline_1977() -> dict:
    return _articles(BASELINE_1977)


def _update_xml() -> bytes:
    return gzip.decompress(UPDATE_2021.read_bytes())


def _xml_text(pmid: int, path: str) -> list[str]:
    """Independent look-up with lxml XPath, to check the parser against the document itself."""
    root = etree.fromstring(_update_xml())
    record = root.xpath(f"PubmedArticle[MedlineCitation/PMID={pmid}]")[-1]
    return [str(t) for t in record.xpath(path)]


# ---------------------------------------------------------------- the contract, field by field


def test_every_article_has_exactly_the_contract_keys_with_their_types():
    sources = [UPDATE_2021, BASELINE_1977, *sorted(FIXTURES.glob("efetch_*"))]
    seen = 0
    for source in sources:
        for event in iter_pubmed(source):
            if event["kind"] == "delete":
                continue
            assert event["kind"] == "article", (source.name, event)
            assert set(event) == ARTICLE_KEYS
            assert isinstance(event["pmid"], int) and isinstance(event["pmid_version"], int)
            for key in ("title", "abstract", "journal", "journal_iso", "pub_date_raw", "citation_status"):
                assert isinstance(event[key], str), key
            for key in ("pub_year", "pub_month"):
                assert event[key] is None or isinstance(event[key], int)
            for key in ("electronic_date", "entrez_date", "date_revised"):
                assert event[key] is None or len(event[key]) == 10
            assert all(isinstance(a["affiliations"], list) for a in event["authors"])
            assert isinstance(event["is_retracted"], bool) and isinstance(event["is_book"], bool)
            seen += 1
    assert seen == 32 + 52 + 7


def test_a_whole_record_field_by_field(update_2021):
    # 34092174: a Publisher-status record with a CollectiveName author and an entrez date that
    # differs from its "pubmed" date.
    assert update_2021[34092174] == {
        "kind": "article", "pmid": 34092174, "pmid_version": 1,
        "title": "Climbing the ladder of success in testicular cancer.",
        "abstract": "", "abstract_sections": [],
        "journal": "Acta oncologica (Stockholm, Sweden)", "journal_iso": "Acta Oncol",
        "pub_year": 2021, "pub_month": 6, "pub_date_raw": "2021 Jun 07",
        "electronic_date": "2021-06-07", "entrez_date": "2021-06-07", "date_revised": "2021-06-07",
        "languages": ["eng"], "doi": "10.1080/0284186X.2021.1924404", "pmc": None,
        "authors": [
            {"position": 1, "last_name": "Stahl", "fore_name": "Olof", "initials": "O",
             "collective_name": None,
             "affiliations": ["Department of Oncology, Skåne University Hospital, Lund, Sweden."]},
            {"position": 2, "last_name": None, "fore_name": None, "initials": None,
             "collective_name": "SWENOTECA", "affiliations": []},
        ],
        "publication_types": [{"ui": "D016421", "name": "Editorial"}],
        "mesh": [], "chemicals": [], "keywords": [], "indexing_method": None,
        "citation_status": "Publisher", "publication_status": "aheadofprint",
        "comments_corrections": [], "is_retracted": False, "is_book": False,
    }


def test_medline_record_with_structured_abstract_mesh_and_chemicals(update_2021):
    record = update_2021[10704411]
    assert [(s["idx"], s["label"], s["nlm_category"]) for s in record["abstract_sections"]] == [
        (0, "BACKGROUND", "BACKGROUND"), (1, "RESULTS", "RESULTS"), (2, "CONCLUSIONS", "CONCLUSIONS"),
    ]
    lines = record["abstract"].split("\n")
    assert [line.split(": ", 1)[0] for line in lines] == ["BACKGROUND", "RESULTS", "CONCLUSIONS"]
    assert lines[0] == "BACKGROUND: " + record["abstract_sections"][0]["text"]
    assert record["abstract_sections"][0]["text"].startswith("Drugs of abuse have a common property")
    assert record["citation_status"] == "MEDLINE" and record["indexing_method"] is None
    assert (record["pub_year"], record["pub_month"], record["pub_date_raw"]) == (2000, 2, "2000 Feb 24")
    assert record["date_revised"] == "2021-06-07" and record["electronic_date"] is None
    assert record["doi"] == "10.1016/s0960-9822(00)00336-5" and record["pmc"] is None
    assert [a["last_name"] for a in record["authors"]] == [
        "Bainton", "Tsai", "Singh", "Moore", "Neckameyer", "Heberlein"]
    assert record["authors"][0]["affiliations"] == [
        "Department of Anesthesia, University of California San Francisco, California 94143-0452, USA."]
    assert record["publication_types"][1] == {
        "ui": "D013486", "name": "Research Support, U.S. Gov't, Non-P.H.S."}
    assert record["chemicals"][0] == {"ui": "D000431", "name": "Ethanol", "registry_number": "3K9958V90M"}
    assert len(record["chemicals"]) == 4
    dopamine = next(h for h in record["mesh"] if h["descriptor"] == "Dopamine")
    assert dopamine == {
        "descriptor_ui": "D004298", "descriptor": "Dopamine", "major": False,
        "qualifiers": [{"ui": "Q000378", "name": "metabolism", "major": True},
                       {"ui": "Q000502", "name": "physiology", "major": False}],
    }
    assert len(record["mesh"]) == len(_xml_text(10704411, "MedlineCitation/MeshHeadingList/MeshHeading/DescriptorName/text()"))


def test_citation_status_indexing_method_and_publication_status(update_2021):
    statuses = {r["citation_status"] for r in update_2021.values()}
    assert statuses == {"MEDLINE", "In-Process", "In-Data-Review", "Publisher", "PubMed-not-MEDLINE"}
    assert update_2021[31647768]["indexing_method"] == "Automated"
    assert update_2021[30461536]["indexing_method"] == "Curated"
    assert {r["publication_status"] for r in update_2021.values()} == {"ppublish", "epublish", "aheadofprint"}


def test_pmid_versions_of_one_pmid_are_separate_events():
    versions = [e["pmid_version"] for e in iter_pubmed(UPDATE_2021) if e.get("pmid") == 30271887]
    assert sorted(versions) == [1, 2, 3, 4]


def test_entrez_date_is_the_entrez_stamp_not_the_pubmed_one(update_2021):
    assert _xml_text(33104149, "PubmedData/History/PubMedPubDate[@PubStatus='pubmed']/Day/text()") == ["27"]
    assert update_2021[33104149]["entrez_date"] == "2020-10-26"


def test_identifiers_doi_from_article_ids_and_pmc(update_2021):
    record = update_2021[34095789]
    assert record["pmc"] == _xml_text(34095789, "PubmedData/ArticleIdList/ArticleId[@IdType='pmc']/text()")[0]
    assert record["pmc"].startswith("PMC")
    # In-Process record without any DOI anywhere.
    assert update_2021[34083456]["doi"] is None


def test_keywords_languages_and_suffixless_names(update_2021):
    assert update_2021[33821504]["keywords"] == [
        "T 2 ∗", "dynamic nuclear polarization", "heart", "hyperpolarized pyruvate",
        "multi-echo spiral imaging"]
    assert update_2021[34092472]["languages"] == ["eng", "por"]


# ---------------------------------------------------------------- retractions and other links


def test_retracted_article_is_flagged_and_its_link_kept(update_2021):
    record = update_2021[33104149]
    assert record["is_retracted"] is True
    assert record["comments_corrections"] == [
        {"ref_type": "RetractionIn", "pmid": 34095918, "ref_source": "Chem Commun (Camb). 2021 Jun 6;:"}]
    assert {"ui": "D016441", "name": "Retracted Publication"} in record["publication_types"]


def test_retraction_notice_is_not_itself_retracted(update_2021, baseline_1977):
    notice = update_2021[34086810]
    assert notice["is_retracted"] is False
    assert notice["comments_corrections"] == [
        {"ref_type": "RetractionOf", "pmid": 23593473, "ref_source": "PLoS One. 2013 Apr 11;8(4):e61363"}]
    assert baseline_1977[423962]["is_retracted"] is True
    assert baseline_1977[400955]["is_retracted"] is False


def test_other_comment_and_correction_links(update_2021):
    assert [(c["ref_type"], c["pmid"]) for c in update_2021[31647768]["comments_corrections"]] == [
        ("CommentOn", 30355032), ("ErratumIn", 32790519)]
    assert update_2021[34086515]["comments_corrections"][0]["ref_type"] == "UpdateIn"
    assert update_2021[34096680]["comments_corrections"][0]["ref_type"] == "ExpressionOfConcernFor"


# ---------------------------------------------------------------- dates

# (pmid, printed date, year, month) for every MedlineDate shape and Season in the 1977 sample.
BASELINE_DATES = [
    (399350, "1978 Jan-Aug", 1978, 1), (399484, "1979 Fall", 1979, 9),
    (399698, "1979 Nov-1980 May", 1979, 11), (399877, "1979 Oct-Dec", 1979, 10),
    (399903, "1979-1980 Fall", 1979, 9), (399974, "1979-1980 Fall-Winter", 1979, 9),
    (399987, "1979 Jan-Apr", 1979, 1), (399989, "1979 May-Aug", 1979, 5),
    (400207, "1979 Jul-Oct", 1979, 7), (400231, "1978 Jan-Dec", 1978, 1),
    (400235, "1979 Aug-Dec", 1979, 8), (400259, "1978 Jan-Jun", 1978, 1),
    (400554, "1979-1980", 1979, None), (400582, "1979 Sep-Dec", 1979, 9),
    (400643, "1979 Aug-Oct", 1979, 8), (400976, "1978 Apr-Jun", 1978, 4),
    (401010, "1979 Jul-Dec", 1979, 7), (402031, "1977 Jan 5-20", 1977, 1),
    (402541, "1977 Jan 1-8", 1977, 1), (405559, "1977 04 09", 1977, 4),
    (406230, "1977 May-Jun", 1977, 5), (406249, "1977 Jul-Aug", 1977, 7),
    (407186, "1977 Sep-Oct", 1977, 9), (408290, "1977 Jun-Jul", 1977, 6),
    (408511, "1977 Apr-May", 1977, 4), (410595, "1977 Summer", 1977, 6),
    (411013, "1977 Nov-Dec", 1977, 11), (411114, "1977 Aug 27-Sep 3", 1977, 8),
    (411160, "1977 Aug 15-31", 1977, 8), (411929, "1977 Autumn", 1977, 9),
    (412479, "1977 Aug-Sep", 1977, 8), (413177, "1977 Jul-Sep", 1977, 7),
    (414245, "1977 Winter", 1977, 12), (414950, "1977 Jun 1-3", 1977, 6),
    (416169, "1978 Apr-Jul", 1978, 4), (416400, "1978 Jan 15-31", 1978, 1),
    (416932, "1977 Fall-Winter", 1977, 9), (417507, "1977 Apr 17-21", 1977, 4),
    (417773, "1978 Mar-Apr", 1978, 3), (418206, "1977 Spring", 1977, 3),
    (418321, "1977 Dec 24-31", 1977, 12), (418627, "1977 Jul 4-7", 1977, 7),
    (419320, "1979 Jan-Feb", 1979, 1), (419900, "1979", 1979, None),
    (425318, "1979 Jan-Mar", 1979, 1), (428700, "1979 Feb-Mar", 1979, 2),
]


@pytest.mark.parametrize("pmid, printed, year, month", BASELINE_DATES)
def test_baseline_publication_dates(baseline_1977, pmid, printed, year, month):
    record = baseline_1977[pmid]
    assert (record["pub_date_raw"], record["pub_year"], record["pub_month"]) == (printed, year, month)


@pytest.mark.parametrize("pmid, printed, year, month", [
    (34092911, "2021 3rd Quarter", 2021, 7), (33667200, "2021 Apr-Jun 01", 2021, 4),
    (34092142, "2021 Apr-Jun", 2021, 4), (34092829, "2020 Spring", 2020, 3),
    (33545178, "2021 Jul-Aug", 2021, 7), (30271887, "2018", 2018, None),
])
def test_update_publication_dates(update_2021, pmid, printed, year, month):
    record = update_2021[pmid]
    assert (record["pub_date_raw"], record["pub_year"], record["pub_month"]) == (printed, year, month)


@pytest.mark.parametrize("text, expected", [
    ("1998 Dec-1999 Jan", (1998, 12)), ("2000 Winter", (2000, 12)), ("1977-1978", (1977, None)),
    ("1979 Jul-Aug", (1979, 7)), ("Spring 1980", (1980, 3)), ("Summer 1981", (1981, 6)),
    ("1982 Autumn", (1982, 9)), ("2021 4th Quarter", (2021, 10)), ("1st Quarter 2020", (2020, 1)),
    ("1977 Aug 27-Sep 3", (1977, 8)), ("Undated", (None, None)),
])
def test_medline_date_strings(text, expected):
    assert medline_date(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Jan", 1), ("sept", 9), ("December", 12), ("05", 5), ("5", 5), ("13", None),
    ("Winter", 12), ("", None), (None, None), ("Smarch", None),
])
def test_month_number(text, expected):
    assert month_number(text) == expected


# ---------------------------------------------------------------- text with markup


def test_title_markup_is_flattened_to_text():
    title = lambda name: parse_bytes((FIXTURES / name).read_bytes())[0]["title"]  # noqa: E731
    assert title("efetch_37167981.xml") == (
        "Monte Carlo simulation of micro-x-ray fluorescence (μ-XRF) based detection of "
        "immunomagnetically labeled tumor cells.")
    # No space is invented where the document has none after </sub>.
    assert title("efetch_38914053.xml").startswith("Doped SnO2thin films fabricated")


def test_mathml_is_flattened_with_its_layout_whitespace_collapsed(update_2021):
    assert update_2021[33821504]["title"] == (
        "Cardiac T 2 ∗ measurement of hyperpolarized 13 C metabolites using "
        "metabolite-selective multi-echo spiral imaging.")
    abstract = update_2021[34092205]["abstract"]
    assert "two-compartment Ca2+ signalling" in abstract and "  " not in abstract


def test_space_between_two_inline_elements_survives(update_2021):
    # <AbstractText><b>Background:</b> <i>Trypanosoma cruzi</i> has …
    assert update_2021[34095255]["abstract"].startswith("Background: Trypanosoma cruzi has a high rate")


def test_structured_abstract_with_inline_markup():
    record = parse_bytes((FIXTURES / "efetch_29226023.xml").read_bytes())[0]
    assert [(s["label"], s["nlm_category"]) for s in record["abstract_sections"]] == [
        ("AIMS", "OBJECTIVE"), ("METHODS", "METHODS"), ("RESULTS", "RESULTS"),
        ("CONCLUSIONS", "CONCLUSIONS")]
    methods = record["abstract_sections"][1]["text"]
    assert "either Oral Essentials® Whitening Strips or Crest® 3D White Whitestrips™." in methods
    assert "\nMETHODS: 54 porcelain and 72 composite chips" in record["abstract"]


def test_bold_italic_run_in_headings():
    record = parse_bytes((FIXTURES / "efetch_33119379.xml").read_bytes())[0]
    assert record["abstract_sections"][0]["label"] is None
    assert record["abstract"].startswith("Purpose/Objective: To describe the psychometrics")


def test_vernacular_title_stands_in_for_an_empty_title(update_2021):
    assert _xml_text(34097092, "MedlineCitation/Article/ArticleTitle/text()") == []
    assert update_2021[34097092]["title"] == "Mitteilungen der DGN."
    # A record with both keeps its English title.
    assert update_2021[34096929]["title"] == "[Is acupuncture effective for dry mouth?]"


def test_other_abstract_in_another_language_is_not_the_abstract(update_2021):
    record = update_2021[34096929]
    assert record["abstract"].startswith("Current therapies for dry mouth")
    assert "De huidige therapieën" not in record["abstract"]
    assert len(record["abstract_sections"]) == 1


# ---------------------------------------------------------------- who counts as an author


def test_investigators_and_name_subjects_are_not_authors(update_2021, baseline_1977):
    investigators = _xml_text(33675745, "MedlineCitation/InvestigatorList/Investigator/LastName/text()")
    assert investigators
    names = [a["last_name"] for a in update_2021[33675745]["authors"]]
    assert len(names) == len(_xml_text(33675745, "MedlineCitation/Article/AuthorList/Author"))
    assert not set(investigators) & set(names)
    assert update_2021[33675745]["authors"][-1]["collective_name"]
    assert "Birchler" not in [a["last_name"] for a in update_2021[31266846]["authors"]]
    assert "Mundell" not in [a["last_name"] for a in baseline_1977[399561]["authors"]]


def test_several_affiliations_per_author(update_2021):
    assert update_2021[31266846]["authors"][1]["affiliations"] == [
        "Donald Danforth Plant Science Center.", "St. Louis, Missouri."]


def test_2008_dtd_record():
    record = parse_bytes((FIXTURES / "efetch_2008_dtd_11748933.xml").read_bytes())[0]
    assert record["pmid"] == 11748933 and record["pmid_version"] == 1
    # The single pre-2014 Article/Affiliation belongs to the first author.
    assert record["authors"][0]["affiliations"] == [
        "Dipartimento di Scienze Ambientali, Università degli Studi della Tuscia, 01100 Viterbo, Italy."]
    assert all(not a["affiliations"] for a in record["authors"][1:])
    assert record["publication_types"] == [
        {"ui": None, "name": "Journal Article"}, {"ui": None, "name": "Research Support, Non-U.S. Gov't"}]
    # No entrez stamp back then: the "pubmed" stamp is the entry date.
    assert record["entrez_date"] == "2001-12-26"
    assert record["mesh"][7]["qualifiers"][0] == {"ui": None, "name": "anatomy & histology", "major": True}


def test_book_chapter():
    [record] = parse_bytes((FIXTURES / "efetch_20301546.xml").read_bytes())
    assert record["is_book"] is True and record["pmid"] == 20301546
    assert record["title"] == "Hereditary Motor and Sensory Neuropathy with Agenesis of the Corpus Callosum"
    assert record["journal"] == "GeneReviews®"
    assert (record["pub_year"], record["pub_month"]) == (1993, None)
    # The book's editors (Adam, Bick …) are not the chapter's authors.
    assert [a["last_name"] for a in record["authors"]] == ["Gauvreau", "Brisson", "Dupré"]
    assert record["publication_types"] == [{"ui": "D016454", "name": "Review"}]
    assert record["abstract_sections"][0]["label"] == "CLINICAL CHARACTERISTICS"
    assert (record["entrez_date"], record["date_revised"]) == ("2020-09-17", "2020-09-17")
    assert record["publication_status"] == "ppublish" and record["mesh"] == []
    assert "SLC12A6" in record["keywords"]


def test_ketamine_records(update_2021, baseline_1977):
    assert "ketamine" in update_2021[34090769]["title"].lower()
    assert baseline_1977[419567]["title"] == "Ketamine anaesthesia."
    [trial] = list(iter_pubmed(FIXTURES / "efetch_38011560.xml.gz"))
    assert trial["pmid"] == 38011560 and "ketamine" in trial["abstract"].lower()


# ---------------------------------------------------------------- other events


def test_delete_citation_block():
    deletes = [e for e in iter_pubmed(UPDATE_2021) if e["kind"] == "delete"]
    assert len(deletes) == 1
    pmids = deletes[0]["pmids"]
    assert len(pmids) == 20 and pmids[0] == 31688362 and pmids[-1] == 34096142


def test_empty_result_set_yields_nothing():
    assert parse_bytes((FIXTURES / "efetch_37909814.xml").read_bytes()) == []


@pytest.mark.parametrize("name, root", [("esummary_error.xml", "eSummaryResult"), ("pmfetch_asn1.html", "html")])
def test_a_document_that_is_not_pubmed_xml_is_quarantined(name, root):
    [event] = parse_bytes((FIXTURES / name).read_bytes())
    assert event["kind"] == "quarantine" and event["pmid"] is None
    assert f"<{root}>" in event["reason"]


def test_input_that_is_not_xml_at_all():
    page = (FIXTURES / "pmfetch_asn1.html").read_bytes()
    asn1 = page[page.index(b"Pubmed-entry"):]
    [event] = parse_bytes(asn1)
    assert event["kind"] == "quarantine" and "line 1" in event["reason"]
    [event] = parse_bytes(b"")
    assert event["kind"] == "quarantine"


# ---------------------------------------------------------------- damaged input


def _record_span(xml: bytes, pmid: int) -> tuple[int, int]:
    start = xml.rindex(b"<PubmedArticle>", 0, xml.index(f">{pmid}</PMID>".encode()))
    return start, xml.index(b"</PubmedArticle>", start) + len(b"</PubmedArticle>")


@pytest.mark.parametrize("pmid, old, new, field", [
    (10704411, b"<Month>06</Month>\n        <Day>07</Day>\n      </DateRevised>",
     b"<Month>13</Month>\n        <Day>07</Day>\n      </DateRevised>", "date_revised"),
    (10704411, b"<Year>2000</Year>\n              <Month>Feb</Month>",
     b"<Year>2000</Year>\n              <Month>Fbe</Month>", "pub_year"),
    (10704411, b"<PubDate>\n              <Year>2000</Year>",
     b"<PubDate>\n              <Year>MM</Year>", "pub_year"),
    (10704411, b'<PubMedPubDate PubStatus="entrez">\n          <Year>2000</Year>',
     b'<PubMedPubDate PubStatus="entrez">\n          <Year>200O</Year>', "entrez_date"),
    (10704411, b'<DescriptorName UI="D000818" MajorTopicYN="N">Animals</DescriptorName>', b"", "mesh"),
    (31647768, b">32790519</PMID>", b">3279O519</PMID>", "comments_corrections"),
    (31647768, b"<Month>10</Month>\n          <Day>24</Day>\n        </ArticleDate>",
     b"<Month>10</Month>\n          <Day>32</Day>\n        </ArticleDate>", "electronic_date"),
])
def test_a_record_with_a_broken_part_is_quarantined_and_the_stream_goes_on(pmid, old, new, field):
    xml = _update_xml()
    start, end = _record_span(xml, pmid)
    record = xml[start:end]
    assert record.count(old) == 1
    damaged = xml[:start] + record.replace(old, new) + xml[end:]
    events = parse_bytes(damaged)
    [bad] = [e for e in events if e["kind"] == "quarantine"]
    assert bad["pmid"] == pmid
    assert bad["reason"].startswith(f"{field}: ")
    assert bad["raw"].startswith("<PubmedArticle>") and len(bad["raw"]) == RAW_LIMIT
    assert sum(e["kind"] == "article" for e in events) == 31
    assert events[-1]["kind"] == "delete"


def test_unreadable_pmid_and_missing_pmid():
    xml = _update_xml()
    start, end = _record_span(xml, 34092174)
    record = xml[start:end]
    events = parse_bytes(xml[:start] + record.replace(b">34092174</PMID>", b">34O92174</PMID>") + xml[end:])
    [bad] = [e for e in events if e["kind"] == "quarantine"]
    assert bad["pmid"] is None and bad["reason"].startswith("pmid: ValueError")
    events = parse_bytes(xml[:start] + record.replace(b'<PMID Version="1">34092174</PMID>', b"") + xml[end:])
    [bad] = [e for e in events if e["kind"] == "quarantine"]
    assert bad["pmid"] is None and bad["reason"] == "pmid: missing MedlineCitation/PMID"
    assert "Climbing the ladder of success" in bad["raw"]


def test_a_bad_pmid_in_a_delete_block_is_quarantined():
    xml = _update_xml().replace(b'<PMID Version="1">31764432</PMID>\n<PMID', b'<PMID Version="1">-</PMID>\n<PMID')
    events = parse_bytes(xml)
    assert events[-1]["kind"] == "quarantine" and "DeleteCitation" in events[-1]["reason"]
    assert sum(e["kind"] == "article" for e in events) == 32


@pytest.mark.parametrize("fraction", [0.1, 0.37, 0.5, 0.83, 0.999])
def test_truncated_document_yields_what_was_complete_then_one_quarantine(fraction):
    xml = _update_xml()
    cut = int(len(xml) * fraction)
    complete = xml[:cut].count(b"</PubmedArticle>")
    events = parse_bytes(xml[:cut])
    *records, last = events
    assert [e["kind"] for e in records] == ["article"] * complete
    assert last["kind"] == "quarantine" and f"input broken at byte {cut} " in last["reason"]
    assert f"after {complete} records" in last["reason"]
    assert len(last["raw"]) <= RAW_LIMIT
    head = xml[:cut]
    if head.count(b"<PubmedArticle>") > complete and head.rindex(b"<PubmedArticle>") < head.rfind(b"</PMID>"):
        # The record cut in half is named: its PMID had been read.
        partial = head[head.rindex(b"<PubmedArticle>"):]
        assert last["pmid"] == int(re.search(rb">(\d+)</PMID>", partial).group(1))
        assert last["raw"].startswith("<PubmedArticle>")


def test_truncated_gzip_download():
    data = UPDATE_2021.read_bytes()
    events = parse_bytes(data[: len(data) // 2])
    assert events[-1]["kind"] == "quarantine" and "EOFError" in events[-1]["reason"]
    assert all(e["kind"] == "article" for e in events[:-1]) and len(events) > 5


def test_a_record_that_is_not_well_formed_is_quarantined_and_the_stream_goes_on():
    xml = _update_xml()
    start, end = _record_span(xml, 31647768)
    record = xml[start:end]
    damaged = xml[:start] + record.replace(b"</ArticleTitle>", b"</ArticleTitel>", 1) + xml[end:]
    events = parse_bytes(damaged)
    [bad] = [e for e in events if e["kind"] == "quarantine"]
    assert bad["pmid"] == 31647768
    assert f"record at byte {start} " in bad["reason"] and "not well-formed XML" in bad["reason"]
    assert "ArticleTitel" in bad["reason"] and bad["raw"].startswith("<PubmedArticle>")
    assert sum(e["kind"] == "article" for e in events) == 31 and events[-1]["kind"] == "delete"


# ---------------------------------------------------------------- the two routes


def _by_iterparse(xml: bytes) -> list[dict]:
    return list(parse._iterparse_events(io.BytesIO(xml)))


@pytest.mark.parametrize("fixture", [UPDATE_2021, BASELINE_1977, *sorted(FIXTURES.glob("efetch_*"))],
                         ids=lambda p: p.name)
def test_the_split_route_and_iterparse_give_the_same_events(fixture):
    data = fixture.read_bytes()
    xml = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    assert parse_bytes(xml) == _by_iterparse(xml)


@pytest.mark.parametrize("change", [
    # content iterparse must read from that point on: a comment, an element no record uses
    lambda xml, at: xml[:at] + b"<!-- a note between records -->" + xml[at:],
    lambda xml, at: xml[:at] + b"<Unexpected><PMID>1</PMID></Unexpected>" + xml[at:],
])
def test_an_unusual_layout_mid_document_is_read_by_iterparse_from_there(change):
    xml = _update_xml()
    at = _record_span(xml, 31647768)[0]
    events = parse_bytes(change(xml, at))
    assert events == parse_bytes(xml)


def test_other_encodings_namespaced_roots_and_empty_sets():
    xml = _update_xml()
    latin = xml.replace(b'encoding="utf-8"', b'encoding="ISO-8859-1"').decode("utf-8").encode("latin-1", "xmlcharrefreplace")
    assert parse_bytes(latin) == parse_bytes(xml)
    namespaced = xml.replace(b"<PubmedArticleSet>", b'<PubmedArticleSet xmlns:x="urn:example">', 1)
    assert parse_bytes(namespaced) == parse_bytes(xml)
    assert parse_bytes(b'<?xml version="1.0" ?>\n<PubmedArticleSet/>\n') == []
    assert parse_bytes(b"<PubmedArticleSet>\n</PubmedArticleSet>") == []


def test_reference_lists_are_never_read():
    xml = _update_xml()
    assert xml.count(b"<ReferenceList>") == 6
    expected = parse_bytes(xml)
    # What no field reads is skipped before libxml2 builds the record: nested lists, or a
    # damaged reference, change nothing and quarantine nothing.
    nested = xml.replace(b"<ReferenceList>", b"<ReferenceList><Title>Cited</Title><ReferenceList>", 1)
    nested = nested.replace(b"</ReferenceList>", b"</ReferenceList></ReferenceList>", 1)
    assert parse_bytes(nested) == expected
    damaged = xml.replace(b"<Citation>", b"<Citation><Unclosed>", 1)
    assert parse_bytes(damaged) == expected
    assert _by_iterparse(damaged)[-1]["kind"] == "quarantine"  # iterparse reads every byte


@pytest.mark.parametrize("change", [
    lambda xml: xml.replace(b'<PubMedPubDate PubStatus="entrez">', b"<PubMedPubDate PubStatus='entrez'>", 1),
    lambda xml: xml.replace(b'<PubMedPubDate PubStatus="entrez">', b'<PubMedPubDate PubStatus="medline">', 1),
])
def test_history_is_trimmed_only_when_its_entrez_stamp_is_written_the_usual_way(change):
    xml = change(_update_xml())
    assert parse_bytes(xml) == _by_iterparse(xml)


def test_content_after_the_root_is_reported():
    *records, last = parse_bytes(_update_xml() + b"<PubmedArticleSet></PubmedArticleSet>")
    assert len(records) == 33
    assert last["kind"] == "quarantine" and "content after </PubmedArticleSet>" in last["reason"]
    assert parse_bytes(_update_xml() + b"\n<!-- trailing -->\n")[-1]["kind"] == "delete"


# ---------------------------------------------------------------- sources


def test_every_kind_of_source_gives_the_same_events(tmp_path):
    expected = list(iter_pubmed(UPDATE_2021))
    plain = tmp_path / "update.xml"
    plain.write_bytes(_update_xml())
    assert list(iter_pubmed(str(plain))) == expected
    assert list(iter_pubmed(plain)) == expected
    assert parse_bytes(UPDATE_2021.read_bytes()) == expected
    assert parse_bytes(bytearray(plain.read_bytes())) == expected
    with open(plain, "rb") as handle:
        assert list(iter_pubmed(handle)) == expected
        assert not handle.closed  # the caller's file stays the caller's
    with gzip.open(UPDATE_2021, "rb") as handle:
        assert list(iter_pubmed(handle)) == expected


def test_a_missing_path_is_the_callers_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        list(iter_pubmed(tmp_path / "absent.xml"))


# ---------------------------------------------------------------- arbitrary damage

SEED = (FIXTURES / "efetch_33119379.xml").read_bytes()
SEED_GZ = gzip.compress(SEED, mtime=0)


def _mutated(draw_source: bytes):
    return st.one_of(
        st.integers(0, len(draw_source)).map(lambda n: draw_source[:n]),
        st.tuples(st.integers(0, len(draw_source)), st.integers(0, 64)).map(
            lambda t: draw_source[: t[0]] + draw_source[t[0] + t[1]:]),
        st.tuples(st.integers(0, len(draw_source)), st.binary(min_size=1, max_size=16)).map(
            lambda t: draw_source[: t[0]] + t[1] + draw_source[t[0]:]),
        st.tuples(st.integers(0, len(draw_source) - 1), st.integers(0, 255)).map(
            lambda t: draw_source[: t[0]] + bytes([t[1]]) + draw_source[t[0] + 1:]),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_mutated(SEED), _mutated(SEED_GZ)))
def test_arbitrary_damage_never_raises(data):
    for event in iter_pubmed(io.BytesIO(data) if data[:2] != b"\x1f\x8b" else data):
        assert event["kind"] in {"article", "delete", "quarantine"}
        if event["kind"] == "quarantine":
            assert event["reason"] and len(event["raw"]) <= RAW_LIMIT
        elif event["kind"] == "article":
            assert set(event) == ARTICLE_KEYS and isinstance(event["pmid"], int)


# ---------------------------------------------------------------- blanks between elements

_MINIMAL = """<?xml version="1.0" encoding="utf-8"?>
<PubmedArticleSet>
  <PubmedArticle>
    <MedlineCitation Status="MEDLINE" Owner="NLM">
      <PMID Version="1">1</PMID>
      <Article PubModel="Print">
        <ArticleTitle>{title}</ArticleTitle>
        <Abstract>
          <AbstractText>{abstract}</AbstractText>
        </Abstract>
        <AuthorList>
          <Author><LastName>{last}</LastName></Author>
        </AuthorList>
      </Article>
    </MedlineCitation>
  </PubmedArticle>
</PubmedArticleSet>
"""


def test_the_blankless_parser_does_drop_spaces_that_count():
    # Why the readers check: libxml2, with no DTD to tell it, drops this space too.
    tree = etree.fromstring(b"<a><i>x</i> <i>y</i></a>", parse.BlanklessParser())
    assert etree.tostring(tree, method="text") == b"xy"


@pytest.mark.parametrize(("title", "abstract", "last", "expected"), [
    # spaces between inline elements, in text that opens with one and nested inside one
    ("<i>a</i> <i>b</i> c", "<b>A:</b> <i>T. cruzi</i> <sup>2</sup> ok", "Smith",
     ("a b c", "A: T. cruzi 2 ok", "Smith")),
    ("a<i> <b>x</b></i>y", "a<i><b>x</b> </i>y", "Smith", ("a xy", "ax y", "Smith")),
    ("<i>a</i><sup>2</sup> b", "  <i>lead</i> and trail <b>x</b>  ", "Smith", ("a2 b", "lead and trail x", "Smith")),
    ("t", "t", " <i>x</i>", ("t", "t", " ")),
    # libxml2 drops a blank before a comment, CDATA or processing instruction as well, and the
    # tree then shows no sign of it; nor of one before a carriage return.
    ("<i>a</i> <!--c-->b", "<b>A</b> <?pi x?>B", "Smith", ("a b", "A B", "Smith")),
    ("<i>a</i> <![CDATA[b]]>", "a<i> <!--c--></i>b", " <!--c-->Smith", ("a b", "a b", " Smith")),
    ("t", "t", " \r\nSmith", ("t", "t", " \nSmith")),
])
def test_blanks_read_the_same_as_from_a_tree_that_kept_them(title, abstract, last, expected):
    xml = _MINIMAL.format(title=title, abstract=abstract, last=last).encode()
    [record] = parse_bytes(xml)
    assert (record["title"], record["abstract"], record["authors"][0]["last_name"]) == expected
    assert [record] == _by_iterparse(xml)


def test_marked_up_text_is_collapsed_the_same_with_or_without_the_shortcut():
    # records._flat returns printable text without double or edge spaces as it is: that holds
    # only if no printable character but the space splits words.
    assert [c for c in map(chr, range(0x110000)) if c.isprintable() and c != " " and c.isspace()] == []
    xml = _MINIMAL.format(title="<i>a</i>\u00a0b  c", abstract="<b>x</b> y", last="Smith").encode()
    [record] = parse_bytes(xml)
    assert (record["title"], record["abstract"]) == ("a b c", "x y")


_ATOMS = ["a", "b", " ", "  ", "\n", "\t", "&amp;", "&#32;", "&#10;", "é", " " * 301,
          "\r", "\r\n", "<!--c-->", "<?p x?>", "<![CDATA[z]]>", "<![CDATA[ ]]>"]


@st.composite
def _mixed(draw, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 5))):
        if depth < 3 and draw(st.booleans()) and draw(st.booleans()):
            tag = draw(st.sampled_from(["i", "b", "sup", "mi"]))
            parts.append(f"<{tag}>{draw(_mixed(depth + 1))}</{tag}>")
        else:
            parts.append(draw(st.sampled_from(_ATOMS)))
    return "".join(parts)


def _read_keeping_every_blank(xml: bytes) -> list[dict]:
    blankless = parse.BlanklessParser
    parse.BlanklessParser = lambda **options: etree.XMLParser(**options)
    try:
        return parse_bytes(xml)
    finally:
        parse.BlanklessParser = blankless


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["title", "abstract", "last"]), _mixed())
def test_any_mixed_content_reads_as_from_a_tree_that_kept_every_blank(field, text):
    values = {"title": "t", "abstract": "t", "last": "Smith", field: text}
    xml = _MINIMAL.format(**values).encode()
    assert parse_bytes(xml) == _read_keeping_every_blank(xml)
