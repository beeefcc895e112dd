"""Labelled data the taggers are trained and measured on: titles that declare their own design."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.tag import load_models, tag_input
from pipeline.tag.corpus import declared_design, declared_examples, split_of
from pipeline.tag.design import apply_rules, from_text
from pipeline.tag.features import cues, grams
from pipeline.tag.evaluate import evaluate_declared
from pipeline.tag.text import from_record, words

FIXTURES = Path(__file__).parent / "fixtures" / "tag" / "records.jsonl"
RECORDS = [json.loads(line) for line in FIXTURES.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("title,design", [
    # Real PubMed titles.
    ("Immune thrombocytopenia associated with Hashimoto thyroiditis in a pediatric patient: A case report.",
     "case_report"),
    ("Case Report: Delayed Primary Wound Closure After Extensive Abdominal Wall Resection for Infection and "
     "Malignancy Using TopClosure®.", "case_report"),
    ("Statins use and the prognosis of colorectal cancer: a meta-analysis.", "meta_analysis"),
    ("Ocular Injury Associated With Prone Positioning in Adult Critical Care: A Systematic Review and "
     "Meta-Analysis.", "meta_analysis"),
    ("Meta-analysis comparing direct oral anticoagulants versus vitamin K antagonists in patients with left "
     "ventricular thrombus.", "meta_analysis"),
    ("Self-Management of Dementia by Family Carers: A Scoping Review.", "systematic_review"),
    ("Associations between oxytocin and empathy in humans: A systematic literature review.", "systematic_review"),
    ("Ventricular premature contractions: a randomized non-drug intervention trial in normal men.", "rct"),
    ("Efficacy of pediatric integrative manual therapy in positional plagiocephaly: a randomized controlled trial.",
     "rct"),
    ("Dose-response meta-analysis of ketamine for treatment-resistant depression.", "meta_analysis"),
    ("Ketamine in Costa Rica: a systematic review and meta analysis.", "meta_analysis"),
    ("Antidepressants and suicide: an umbrella review of meta-analyses.", "systematic_review"),
    ("Esketamine nasal spray: a randomized-controlled trial.", "rct"),
    ("Wound drainage: a non-randomized controlled trial.", None),
    ("Early mobilisation: a quasi-randomized trial.", None),
    ("Pheochromocytoma in pregnancy: a case report and systematic review of the literature.", None),
    # A part of, or a plan for, a study is not the study.
    ("Effects of omalizumab in children with asthma: A protocol for systematic review and meta-analysis.", None),
    ("Continuous glucose monitoring in type 1 diabetes: a secondary analysis of a randomized clinical trial.", None),
    ("Corrigendum to \"Transdiagnostic internet-delivered cognitive behaviour therapy: a randomized trial\".", None),
    # The design is named, but not as the paper's own.
    ("Incorporating single-arm studies in meta-analysis of randomised controlled trials: a simulation study.", None),
    ("The placebo response in randomised trials in nonalcoholic steatohepatitis simply explained.", None),
    ("Ketamine anaesthesia.", None),
    ("", None),
])
def test_a_title_declares_the_design_only_when_it_names_the_paper_itself(title, design):
    assert declared_design(title) == design


def _articles():
    return [(rec, "recent", from_record(rec)) for rec in RECORDS]


def test_declared_examples_hide_everything_that_gave_the_label_away():
    examples = declared_examples(None, _articles())
    by_pmid = {ex.pmid: ex for ex in examples}
    # Fixture records whose title says what they are (and that have an abstract).
    assert by_pmid[34095361].design == "case_report"
    assert by_pmid[31745725].design == "meta_analysis"
    assert by_pmid[33962333].design == "meta_analysis"  # "...: A systematic review and meta-analysis"
    assert 419567 not in by_pmid  # "Ketamine anaesthesia." declares nothing
    for ex in examples:
        assert ex.inp.title == "" and ex.inp.abstract
        assert ex.inp.publication_types == [] and ex.inp.mesh == [] and ex.inp.indexing_method is None
        assert ex.title and declared_design(ex.title) == ex.design
        assert ex.split == split_of(ex.pmid)


def test_declared_evaluation_scores_recall_per_design_group():
    examples = [replace(ex, split="test") for ex in declared_examples(None, _articles())]
    text, scores = evaluate_declared(examples, load_models(), "test")
    groups = {"rct": ("rct",), "sr_ma": ("systematic_review", "meta_analysis"), "case_report": ("case_report",)}
    for key, designs in groups.items():
        group = [ex for ex in examples if ex.design in designs]
        hits = sum(tag_input(ex.inp)["design"] in designs for ex in group)
        assert scores[key]["support"] == len(group)
        assert scores[key]["recall"] == (hits / len(group) if group else 0.0)
        low, high = scores[key]["recall_interval"] or (0.0, 1.0)
        assert low <= scores[key]["recall"] <= high
    assert f"{len(examples)} held-out records with an abstract" in text


# --- the abstract alone, as these examples are read ------------------------------------------------

def _abstract_only(pmid: int) -> dict:
    rec = next(r for r in RECORDS if r["pmid"] == pmid)
    return tag_input(replace(from_record(rec), title="", publication_types=[], mesh=[], indexing_method=None))


def _cues_of(text: str) -> set[str]:
    return cues(grams(words(text)), text)


def test_a_meta_analysis_that_names_itself_needs_no_database_list():
    # Both records are training examples, so the model alone may already be right: the cue and
    # the rule it drives are what is checked.
    found = _cues_of("In total, 147 studies with 13,570 HSP patients were included in our meta-analysis.")
    assert "metaself" in found and "dbsearch" not in found
    assert apply_rules("cohort", 0.6, found, set())[0] == "meta_analysis"
    assert _abstract_only(31745725)["design"] == "meta_analysis"


@pytest.mark.parametrize("text", [
    "A recent network meta-analysis showed that esketamine was superior to placebo.",
    "Smith et al. performed a meta-analysis of ketamine trials.",
])
def test_a_meta_analysis_cited_in_the_background_is_not_the_paper(text):
    assert "metaself" not in _cues_of(text)


def test_we_randomised_is_a_randomised_trial():
    found = _cues_of("We randomised 450 individuals undergoing diagnostic cardiac catheterization")
    assert "rct" in found
    assert apply_rules("cohort", 0.6, found, set())[0] == "rct"
    assert _abstract_only(32335132)["design"] == "rct"


def test_a_synthesis_needs_synthesis_vocabulary():
    probabilities = {"meta_analysis": 0.5, "systematic_review": 0.1, "cohort": 0.3, "other": 0.1}
    # Odds ratios alone ("aOR 1.38, CI 1.36-1.39") do not make a meta-analysis.
    design, confidence = from_text(("meta_analysis", 0.5, probabilities), {"human", "retro"}, set())
    assert design == "cohort" and confidence == pytest.approx(0.3 / 0.4)  # renormalised without the syntheses
    assert from_text(("meta_analysis", 0.5, probabilities), {"human", "meta"}, set())[0] == "meta_analysis"
    assert _abstract_only(34091061)["design"] not in ("meta_analysis", "systematic_review")


def test_the_synthesis_check_keeps_the_guess_when_nothing_else_is_known():
    # Only synthesis classes, or no distribution at all: nothing to fall back to.
    assert from_text(("meta_analysis", 0.9, {"meta_analysis": 0.9, "systematic_review": 0.1}), set(), set()) \
        == ("meta_analysis", 0.9)
    assert from_text(("systematic_review", 0.7), set(), set()) == ("systematic_review", 0.7)
