"""Labelled data the taggers are trained and measured on: titles that declare their own design."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.tag import load_models, tag_input
from pipeline.tag.corpus import declared_examples, split_of
from pipeline.tag.declared import declared_design
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
    # Observational designs and reviews that do not search systematically (real titles).
    ("Selective pathological examination following hip arthroplasty: A retrospective cohort study.", "cohort"),
    ("The effect of metabolic syndrome on head and neck cancer incidence risk: a population-based prospective "
     "cohort study.", "cohort"),
    ("Restless legs syndrome in systemic lupus erythematosus: A case-control study.", "case_control"),
    ("Increased toxoplasma antibodies in idiopathic inflammatory muscle disease. A case-controlled study.",
     "case_control"),
    ("Ultra-processed food consumption in Barbados: evidence from a nationally representative, cross-sectional "
     "study.", "cross_sectional"),
    ("Effect of remimazolam on intraoperative neuromonitoring during thyroid surgery: a case series.", "case_series"),
    ("Pregnancy and pulmonary arterial hypertension: a case series and literature review.", "case_series"),
    ("Total Hip Replacement in Developmental Hip Dysplasia: A Narrative Review.", "narrative_review"),
    ("Vasodilators in senile dementias: a review of the literature.", "narrative_review"),
    ("Androgen deprivation for salivary duct carcinoma: a case report and review of the literature.",
     "case_report"),
    ("Intraoperative Monitoring of the Obese Patient Undergoing Surgery: A Narrative Review.", "narrative_review"),
    ("Gamification as Online Teaching Strategy During COVID-19: A Mini-Review.", "narrative_review"),
    ("Regional anesthesia in the time of COVID-19: a minireview.", "narrative_review"),
    ("[Randomized controlled trial of ketamine in depression].", "rct"),
    ("Pneumopericardium secondary to oesophageal cancer presenting as myocardial infarction: a case report.",
     "case_report"),
    ("Serum vitamin D status and metabolic syndrome: a systematic review and dose-response meta-analysis.",
     "meta_analysis"),
    ("Ketamine in depression: a randomised controlled trial (KETA).", "rct"),
    ("Not all that glitters is COVID-19: a case series demonstrating the need for histopathology.", "case_series"),
    # A review that also reports patients; a review of cohort studies.
    ("Calyceal diverticula: review of the literature, a hypothesis concerning its aetiology, and report of 17 "
     "cases.", None),
    ("Statins and dementia: a systematic review of cohort studies.", "systematic_review"),
    # A study and a review, or two primary designs, at once: neither is the answer.
    ("Frailty and falls: a cohort and cross-sectional study.", None),
    ("Ketamine and suicidality: a prospective cohort study and systematic review.", None),
    ("Esketamine for depression: a randomised controlled trial and updated meta-analysis.", None),
    ("Case series and a systematic review concerning the level of the aortic bifurcation.", None),
    # Part of a study, a notice about one, a method or a question about a design (real titles
    # unless marked).
    ("A nested case-control study within a cohort of ketamine users.", None),  # made up
    ("Machine Learning-Based Prediction of Brain Tissue Infarction in Patients With Acute Ischemic Stroke Treated "
     "With Theophylline as an Add-On to Thrombolytic Therapy: A Randomized Clinical Trial Subgroup Analysis.", None),
    ("Emulating a randomized controlled trial with observational data: An introduction to the target trial "
     "framework.", None),
    ("Machine learning reduced workload with minimal risk of missing studies: development and evaluation of a "
     "randomized controlled trial classifier for Cochrane Reviews.", None),
    ("Correction to: Ketamine for pain in the emergency department: a cross-sectional study.", None),  # made up
    ("Ketamine for suicidal ideation: time for a randomized controlled trial?", None),  # made up
    ("The randomized controlled trial: gold standard or fool's gold?", None),  # made up
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


def test_declared_evaluation_scores_recall_and_precision_per_design_group():
    examples = [replace(ex, split="test") for ex in declared_examples(None, _articles())]
    text, scores = evaluate_declared(examples, load_models(), "test")
    predicted = {ex.pmid: tag_input(ex.inp)["design"] for ex in examples}
    groups = {"rct": ("rct",), "sr_ma": ("systematic_review", "meta_analysis"), "case_report": ("case_report",),
              "cohort": ("cohort",), "narrative_review": ("narrative_review",)}
    for key, designs in groups.items():
        group = [ex for ex in examples if ex.design in designs]
        hits = sum(predicted[ex.pmid] in designs for ex in group)
        read_as = sum(p in designs for p in predicted.values())
        assert scores[key]["support"] == len(group)
        assert scores[key]["recall"] == (hits / len(group) if group else 0.0)
        # The other declared designs are the negatives.
        assert scores[key]["predicted"] == read_as
        assert scores[key]["precision"] == (hits / read_as if read_as else 0.0)
        low, high = scores[key]["recall_interval"] or (0.0, 1.0)
        assert low <= scores[key]["recall"] <= high
    assert f"{len(examples)} held-out records with an abstract" in text


def test_the_tagger_takes_the_design_a_title_declares():
    # An unindexed record whose abstract could be one of several designs; its title says which.
    abstract = ("BACKGROUND: Little is known about sleep in shift workers. METHODS: 412 randomly selected nurses "
                "completed a questionnaire. RESULTS: Poor sleep was reported by 61%. CONCLUSIONS: Sleep is poor.")
    for title, design in (("Sleep in nurses: a cross-sectional study.", "cross_sectional"),
                          ("Sleep in nurses: a retrospective cohort study.", "cohort"),
                          ("Sleep in nurses: a narrative review.", "narrative_review")):
        tags = tag_input(from_record({"pmid": 1, "title": title, "abstract": abstract}))
        assert (tags["design"], tags["design_source"]) == (design, "text")
        assert tags["design_confidence"] >= 0.9
    # The declaration outranks trial words, and its confidence is not the model's confidence in
    # another design.
    trial_words = _cues_of("Patients were randomly assigned in this double-blind trial.")
    assert apply_rules("rct", 0.99, trial_words, set())[0] == "rct"
    assert apply_rules("rct", 0.99, trial_words, set(), declared="cohort") == ("cohort", 0.9)
    assert apply_rules("cohort", 0.95, set(), set(), declared="cohort") == ("cohort", 0.95)
    # Reviews are left to the pooling rules: a "systematic review" that pools is a meta-analysis.
    pooled = abstract.replace("completed a questionnaire", "were pooled in a random-effects meta-analysis")
    tags = tag_input(from_record({"pmid": 2, "title": "Sleep in nurses: a systematic review.", "abstract": pooled}))
    assert tags["design"] == "meta_analysis"


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


def test_trial_words_do_not_overrule_a_letter_about_trials():
    # Title-only letters and editorials ("Transparency in RCT reporting") discuss trials; the
    # model's reading as opinion stands.
    found = _cues_of("Blinding, pragmatism, and the PRECIS-2 tool for designing and assessing randomized trials.")
    assert {"rand", "trial"} <= found
    assert apply_rules("opinion", 0.5, found, found)[0] == "opinion"
    assert apply_rules("other", 0.5, found, found)[0] == "rct"
    # A title declaring a trial is one, unless it also reads as a viewpoint, or the trial is on animals.
    assert apply_rules("opinion", 0.5, found, found, declared="rct")[0] == "rct"
    viewpoint = _cues_of("Viewpoint: ketamine for depression, a randomized controlled trial")
    assert apply_rules("opinion", 0.5, viewpoint, viewpoint, declared="rct")[0] == "opinion"
    animals = _cues_of("Pigs were randomly assigned in this randomized large animal trial.")
    assert apply_rules("lab_experiment", 0.7, animals, set(), declared="rct")[0] == "lab_experiment"
