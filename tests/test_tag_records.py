"""Design, population and sample size on real PubMed records (tests/fixtures/tag/records.jsonl)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.tag import TAGGER_VERSION, tag_record
from pipeline.tag.indexing import design_from_indexing, design_label, population_from_mesh, trusted
from pipeline.tag.text import MAX_CHARS, from_record

FIXTURES = Path(__file__).parent / "fixtures" / "tag" / "records.jsonl"
RECORDS = {r["pmid"]: r for r in map(json.loads, FIXTURES.read_text(encoding="utf-8").splitlines())}


def text_only(rec: dict) -> dict:
    """The record as an unindexed one: NLM's publication types and MeSH removed."""
    return {**rec, "publication_types": [], "mesh": [], "indexing_method": None}


def as_jsonl_shape(rec: dict) -> dict:
    return {"id": str(rec["pmid"]), "title": rec["title"], "abstract": rec["abstract"],
            "publication_types": [p["name"] for p in rec["publication_types"]],
            "mesh": [m["descriptor"] for m in rec["mesh"]], "indexing_method": rec["indexing_method"]}


def test_version_names_the_artefacts():
    assert TAGGER_VERSION.startswith("tag-") and "+" in TAGGER_VERSION


# --- indexer metadata -------------------------------------------------------------------------

@pytest.mark.parametrize("pubtypes,mesh,expected", [
    (["Journal Article", "Randomized Controlled Trial", "Clinical Trial"], ["Humans"], "rct"),
    (["Journal Article", "Meta-Analysis", "Systematic Review"], ["Humans"], "meta_analysis"),
    (["Systematic Review"], [], "systematic_review"),
    (["Letter", "Case Reports"], ["Humans"], "case_report"),
    (["Editorial"], [], "opinion"),
    (["Review"], ["Humans"], "narrative_review"),
    (["Clinical Trial Protocol"], [], "protocol"),
    (["Controlled Clinical Trial"], ["Humans"], "non_randomized_trial"),
    (["Journal Article"], ["Humans", "Case-Control Studies"], "case_control"),
    (["Journal Article"], ["Humans", "Retrospective Studies"], "cohort"),
    (["Journal Article"], ["Animals", "Rats"], "lab_experiment"),
])
def test_publication_types_and_check_tags_map_to_designs(pubtypes, mesh, expected):
    assert design_from_indexing(pubtypes, mesh)[0] == expected


def test_indexed_record_with_no_design_type_is_labelled_other():
    assert design_from_indexing(["Journal Article"], ["Humans", "Depression"]) == (None, 0.0)
    assert design_label(["Journal Article"], ["Humans", "Depression"]) == "other"


@pytest.mark.parametrize("mesh,expected", [
    (["Humans", "Ketamine"], "human"), (["Animals", "Macaca mulatta"], "animal"),
    (["Animals", "Humans"], "mixed"), (["Animals", "In Vitro Techniques"], "in_vitro"), (["Ketamine"], None),
])
def test_check_tags_map_to_populations(mesh, expected):
    assert population_from_mesh(mesh) == expected


def test_automated_indexing_is_not_trusted():
    assert not trusted("Automated")
    assert trusted("Curated") and trusted("Manual") and trusted(None)


def test_indexed_records_take_the_indexer_design_in_both_shapes():
    for pmid, design in ((32687801, "rct"), (33294991, "meta_analysis"), (31177198, "case_report"),
                         (409052, "rct"), (419567, "opinion"), (409313, "case_report")):
        rec = RECORDS[pmid]
        for shape in (rec, as_jsonl_shape(rec)):
            out = tag_record(shape)
            assert (out["design"], out["design_source"]) == (design, "indexer"), pmid
            assert out["design_confidence"] >= 0.9


def test_indexed_population_comes_from_check_tags():
    out = tag_record(RECORDS[409837])  # "Ketamine self-administration by the rhesus monkey"
    assert (out["population"], out["population_source"]) == ("animal", "indexer")


def test_automated_record_is_tagged_from_its_text():
    # 32392169 carries "Randomized Controlled Trial" from Automated indexing: ignored, yet the
    # abstract itself says it is randomised.
    out = tag_record(RECORDS[32392169])
    assert out["design_source"] == "text"
    assert out["design"] == "rct"
    review = tag_record(RECORDS[38011560])  # Automated; "Ketamine and the neurobiology of depression"
    assert review["design_source"] == "text" and review["population_source"] == "text"


# --- text only ----------------------------------------------------------------------------------

def test_meta_analysis_without_publication_type_is_found_in_text():
    out = tag_record(RECORDS[33962333])  # publisher record: only "Journal Article"
    assert (out["design"], out["design_source"]) == ("meta_analysis", "text")
    assert out["sample_size"] == 750 and "750" in out["sample_size_text"]


@pytest.mark.parametrize("pmid,design", [
    (34092549, "protocol"), (32687801, "rct"), (33294991, "meta_analysis"), (31177198, "case_report"),
    (405433, "rct"),  # 1970s: "regimens were randomly administered to 271 men"
    (34095361, "case_report"),  # "...: A case report." whose patient was in a randomized trial
    (32497602, "opinion"),  # "Editorial: Why JAACAP Published an 'Inconclusive' Trial"
])
def test_design_from_text_alone(pmid, design):
    out = tag_record(text_only(RECORDS[pmid]))
    assert (out["design"], out["design_source"]) == (design, "text")
    assert 0.0 < out["design_confidence"] <= 1.0


def test_case_series_named_in_text():
    out = tag_record(text_only(RECORDS[34092024]))  # "This retrospective case-series ..."
    assert out["design"] == "case_series"
    assert out["sample_size"] == 29


@pytest.mark.parametrize("pmid,population", [(409837, "animal"), (32687801, "human"), (34034067, "human"),
                                            (400575, "animal")])
def test_population_from_text_alone(pmid, population):
    assert tag_record(text_only(RECORDS[pmid]))["population"] == population


def test_retrospective_study_calling_for_trials_is_not_a_trial():
    # 34034067 is retrospective and ends "Larger, randomized, controlled trials ... are warranted".
    out = tag_record(RECORDS[34034067])
    assert (out["design"], out["design_source"]) == ("cohort", "text")
    assert out["sample_size"] == 68 and "68 adult outpatients" in out["sample_size_text"]


# --- bad input ------------------------------------------------------------------------------------

def test_missing_text_is_tagged_unknown():
    out = tag_record({"title": None, "abstract": 17, "publication_types": "not a list"})
    assert (out["design"], out["design_confidence"]) == ("other", 0.0)
    assert out["population"] == "unknown" and out["sample_size"] is None


def test_non_english_text_is_not_guessed_from():
    german = tag_record(text_only(RECORDS[34097109]))  # German title and abstract
    assert german["population"] == "unknown" and german["design_confidence"] == 0.0
    spanish = text_only(RECORDS[34092076])  # Spanish abstract, English title
    inp = from_record(spanish)
    assert "sobrepeso" in inp.abstract
    out = tag_record(spanish, ["ketamine reduces obesity"])
    assert out["directions"][0]["direction"] == "unclear"


def test_huge_abstract_is_cut_and_still_tagged():
    rec = RECORDS[32687801]
    huge = {**text_only(rec), "abstract": rec["abstract"] + " filler words here." * 200_000}
    assert len(from_record(huge).abstract) == MAX_CHARS
    out = tag_record(huge)
    assert out["design"] == "rct"


def test_animals_randomly_divided_into_groups_are_an_experiment_even_beside_human_cells():
    from pipeline.tag.design import apply_rules

    # 32090497: "Thirty adult Sprague Dawley rats were randomly divided into three groups", with
    # human umbilical vein endothelial cells in the same abstract.
    found = {"animal", "human", "rand", "rct"}
    assert apply_rules("lab_experiment", 0.73, found, set())[0] == "lab_experiment"
    assert apply_rules("other", 0.5, found, set())[0] == "rct"  # a trial that mentions animals stays one
