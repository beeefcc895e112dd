"""The claims registry: complete for the two seed articles, well-formed, and its PubMed queries
retrieve the real records a reader would expect."""
import copy
import re

import pytest
import yaml

from pipeline import claims as registry_mod
from pipeline.claims import (KINDS, REGISTRY_PATH, SOURCES_DIR, RegistryError, claims_by_id, load,
                             load_registry, paragraphs, queries, split_sentences, validate_registry)
from pipeline.config import REPO_ROOT
from pipeline.parse import iter_pubmed
from pipeline.query import matches, parse_query, prepare

ARTICLE_A, ARTICLE_B = "000_3c2647acb6e21906", "001_bb0aeada6ae8501b"
SNAPSHOT = REPO_ROOT / "data" / "raw" / "snapshot"


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def records():
    out = {}
    for name in ("ketamine_subset_PubmedArticleSet.xml.gz", "38011560.xml.gz", "37693885.xml.gz"):
        for rec in iter_pubmed(SNAPSHOT / name):
            assert rec["kind"] == "article", rec
            out[rec["pmid"]] = prepare(rec)
    return out


def article_text(stem):
    return (SOURCES_DIR / f"{stem}.txt").read_text(encoding="utf-8")


# ---------------------------------------------------------------- coverage of the articles

def test_registry_size_and_kinds():
    claims = load_registry()
    assert 40 <= len(claims) <= 80
    assert {c.kind for c in claims} == set(KINDS)
    assert len({c.id for c in claims}) == len(claims)


# Conditions each article names as treatable by ketamine, as the article words them.
TREATABLE = {
    ARTICLE_A: {"depression": "efficacy.depression", "anxiety": "efficacy.anxiety",
                "PTSD": "efficacy.ptsd", "chronic pain": "efficacy.chronic_pain",
                "treatment-resistant depression": "efficacy.trd",
                "major depressive disorder": "efficacy.mdd",
                "bipolar depression": "efficacy.bipolar_depression",
                "generalized anxiety disorder": "efficacy.gad",
                "obsessive-compulsive disorder": "efficacy.ocd",
                "social anxiety": "efficacy.social_anxiety", "fibromyalgia": "efficacy.fibromyalgia",
                "complex regional pain syndrome": "efficacy.crps"},
    ARTICLE_B: {"severe depression": "efficacy.depression", "PTSD": "efficacy.ptsd",
                "major depressive disorder": "efficacy.mdd",
                "treatment-resistant depression": "efficacy.trd",
                "anxiety disorders": "efficacy.anxiety",
                "generalized anxiety disorder": "efficacy.gad",
                "social anxiety disorder": "efficacy.social_anxiety",
                "neuropathic pain": "efficacy.neuropathic_pain",
                "complex regional pain syndrome": "efficacy.crps", "chronic pain": "efficacy.chronic_pain"},
}


@pytest.mark.parametrize("article", [ARTICLE_A, ARTICLE_B])
def test_every_treatable_condition_is_registered_from_its_article(article):
    text, by_id = article_text(article), claims_by_id()
    for phrase, claim_id in TREATABLE[article].items():
        assert phrase.lower() in text.lower(), phrase
        claim = by_id[claim_id]
        assert claim.kind == "efficacy"
        assert article in claim.articles, (claim_id, article)
        names = {n.lower() for cond in claim.conditions for n in (cond.name, *cond.synonyms)}
        assert phrase.lower() in names, (phrase, claim_id)


def test_each_brief_topic_has_claims():
    by_id = claims_by_id()
    for claim_id in ("onset.hours", "durability.fades", "durability.boosters", "side_effect.nausea",
                     "side_effect.dizziness", "side_effect.confusion", "side_effect.blood_pressure",
                     "side_effect.dissociation", "abuse.therapeutic_dose", "abuse.misuse",
                     "safety.respiratory", "contraindication.psychosis", "contraindication.cardiac",
                     "delivery.iv", "delivery.im", "delivery.intranasal_esketamine", "delivery.oral",
                     "mechanism.nmda", "mechanism.bdnf", "mechanism.dmn", "mechanism.inflammation",
                     "practice.psychotherapy", "efficacy.response_variability"):
        assert claim_id in by_id


def test_every_quote_is_at_its_locator():
    reg = load()
    sentences = {stem: [split_sentences(p) for p in paragraphs(article_text(stem))]
                 for stem in (ARTICLE_A, ARTICLE_B)}
    refs = [(c.id, s) for c in reg.claims for s in c.sources]
    refs += [("excluded", e.source) for e in reg.excluded]
    for owner, ref in refs:
        assert ref.quote in sentences[ref.article][ref.paragraph][ref.sentence], (owner, ref)
    assert {s.article for _, s in refs} == {ARTICLE_A, ARTICLE_B}


def test_locators_count_non_empty_lines_and_sentences():
    paras = paragraphs(article_text(ARTICLE_A))
    assert paras[1] == "What Is Ketamine?"
    assert split_sentences(paras[12])[5].startswith("Ketamine can be addictive if misused")
    # abbreviations and decimals do not end a sentence
    assert split_sentences("Use e.g. IV ketamine at 0.5 mg/kg. Then wait.") == [
        "Use e.g. IV ketamine at 0.5 mg/kg.", "Then wait."]


def test_conditions_use_one_mesh_ui_per_descriptor():
    seen = {}
    for claim in load_registry():
        for cond in claim.conditions:
            assert re.fullmatch(r"D\d{6}(\d{3})?", cond.mesh_ui)
            assert seen.setdefault(cond.mesh, cond.mesh_ui) == cond.mesh_ui, cond.mesh


def test_docs_list_every_claim_and_exclusion_reason():
    doc = (REPO_ROOT / "docs" / "claims.md").read_text(encoding="utf-8")
    reg = load()
    for claim in reg.claims:
        assert f"`{claim.id}`" in doc, claim.id
    for ex in reg.excluded:
        assert ex.reason in doc, ex.reason


# ---------------------------------------------------------------- queries

def test_every_query_is_valid_pubmed_syntax_and_ingestion_list_comes_from_registry():
    listed = queries()
    assert listed[0][0] == "ketamine.all"
    assert [qid for qid, _ in listed[1:]] == [c.id for c in load_registry()]
    assert len({qid for qid, _ in listed}) == len(listed)
    for qid, q in listed:
        parse_query(q)
        assert "{" not in q and "}" not in q, qid


def test_broad_query_matches_the_42_records_that_name_ketamine(records):
    broad = dict(queries())["ketamine.all"]
    hits = {pmid for pmid, rec in records.items() if matches(broad, rec)}
    # 42 of the 57 subset records name ketamine in title, abstract or MeSH, plus the 2023 review
    assert len(hits - {38011560}) == 42 and 38011560 in hits
    reference_only = {32648109, 32794145, 33211157, 33283316, 33458836, 33751546, 33932098,
                      34014331, 34087890, 34088899, 34089140, 34091594, 34091864, 34091932,
                      37693885}
    assert not hits & reference_only
    # "norketamine" (an NMDA blocker in a patch pipette) is not ketamine
    assert 34044147 not in hits
    # indexed with the Ketamine heading but silent about it in the abstract
    assert {408826, 419061, 424900} <= hits


def test_claim_queries_stay_inside_the_broad_query(records):
    listed = dict(queries())
    broad = listed.pop("ketamine.all")
    for qid, q in listed.items():
        node = parse_query(q)
        for pmid, rec in records.items():
            if matches(node, rec):
                assert matches(broad, rec), (qid, pmid)


# claim -> PMIDs a reader expects it to retrieve, with why
EXPECTED = {
    "efficacy.trd": {34034067: "IV ketamine in 68 outpatients with treatment-resistant depression",
                     38011560: "review: efficacy for treatment-resistant symptoms of depression"},
    "efficacy.mdd": {34034067: "treatment-resistant major depressive disorder",
                     33984391: "ACC and ketamine's antidepressant action in major depression"},
    "efficacy.bipolar_depression": {34034067: "cohort includes bipolar depression"},
    "efficacy.ptsd": {34092549: "RCT protocol: ketamine plus e-CBT for refractory PTSD"},
    "practice.psychotherapy": {34092549: "ketamine alongside internet-based CBT"},
    "durability.fades": {34092549: "'its effects are temporary'",
                         38011560: "discusses relapse after ketamine"},
    "durability.boosters": {38011560: "'protection against relapse'"},
    "efficacy.crps": {34062414: "CRPS patients treated with subanaesthetic ketamine"},
    "efficacy.response_variability": {34062414: "blood miRNA in poor responders to ketamine"},
    "efficacy.chronic_pain": {34092024: "sublingual ketamine in chronic non-malignant pain",
                              34062414: "CRPS, a chronic pain condition"},
    "efficacy.neuropathic_pain": {34092024: "patients with chronic neuropathic pain syndromes"},
    "delivery.oral": {34092024: "sublingual troches/lozenges"},
    "mechanism.central_sensitization": {34092024: "central sensitisation"},
    "safety.tolerability": {34092024: "7% discontinued for drowsiness"},
    "side_effect.drowsiness": {34092024: "drowsiness as the side effect"},
    "mechanism.dmn": {33984391: "ACC as the anterior node of the default mode network"},
    "mechanism.inflammation": {33992694: "anaesthetics including ketamine and brain inflammation"},
    "abuse.misuse": {409837: "ketamine self-administration by monkeys",
                     34092131: "recreational ketamine deaths in England"},
    "contraindication.psychosis": {34093963: "ketamine rat model of schizophrenia"},
    "contraindication.substance_use": {34090769: "ketamine in patients with opioid use disorder"},
    "side_effect.blood_pressure": {412136: "cardiovascular side effects of ketamine (MeSH Hypertension)"},
    "contraindication.cardiac": {412136: "cardiovascular side effects of ketamine",
                                 424900: "induction in patients with circulatory disease"},
    "safety.respiratory": {424900: "induction in patients with respiratory disease"},
    "safety.pediatric_sedation": {419567: "ketamine anaesthesia in children",
                                  424626: "ketamine anaesthesia for children's operations"},
    "onset.hours": {34034067: "rapid-onset effects", 38011560: "rapid onset of action"},
    "onset.faster_than_antidepressants": {38011560: "distinguishes it from prior antidepressants"},
    "delivery.iv": {34034067: "four IV infusions", 34092549: "sub-anaesthetic IV ketamine"},
}

# claim -> PMIDs it must not retrieve, with the trap each one sets
NOT_EXPECTED = {
    "side_effect.dissociation": {424435: "'dissociation constants' of phencyclidine derivatives"},
    "efficacy.depression": {426704: "'cardiorespiratory depression' under anaesthesia"},
    "delivery.im": {416291: "intramuscular sedation of howler monkeys",
                    416295: "intramuscular anaesthesia of rhesus monkeys"},
    "side_effect.drowsiness": {416291: "sedation is the purpose, not a side effect"},
    "mechanism.bdnf": {33932098: "BDNF and propofol, no ketamine"},
    "practice.emergency_use": {34092549: "'trauma-related disorders' is PTSD, not trauma care"},
    "durability.boosters": {34082712: "maintenance dose of dexmedetomidine during surgery"},
}

# Claims nothing in the offline snapshot speaks to: the records are 1970s anaesthesia and 2021
# papers that mention ketamine in passing.
NOTHING_OFFLINE = ["efficacy.ocd", "efficacy.gad", "efficacy.social_anxiety", "efficacy.fibromyalgia",
                   "efficacy.rumination", "mechanism.bdnf", "mechanism.synaptogenesis",
                   "delivery.intranasal_esketamine", "side_effect.nausea", "side_effect.dizziness",
                   "side_effect.perceptual", "side_effect.dissociation", "abuse.therapeutic_dose",
                   "practice.antiemetic", "safety.driving"]


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_claim_retrieves_the_records_a_reader_expects(claim_id, records):
    q = claims_by_id()[claim_id].query
    for pmid, why in EXPECTED[claim_id].items():
        assert matches(q, records[pmid]), (claim_id, pmid, why)


@pytest.mark.parametrize("claim_id", sorted(NOT_EXPECTED))
def test_claim_skips_records_that_only_share_a_word(claim_id, records):
    q = claims_by_id()[claim_id].query
    for pmid, why in NOT_EXPECTED[claim_id].items():
        assert not matches(q, records[pmid]), (claim_id, pmid, why)


def test_claims_with_no_offline_evidence_retrieve_nothing(records):
    by_id = claims_by_id()
    for claim_id in NOTHING_OFFLINE:
        node = parse_query(by_id[claim_id].query)
        assert not [p for p, rec in records.items() if matches(node, rec)], claim_id


def test_synonyms_reach_records_indexed_only_by_mesh(records):
    # 408826 says nothing about ketamine in its text; only its MeSH heading does
    assert not re.search(r"\bketamine\b", records[408826].record["abstract"], re.I)
    assert matches(dict(queries())["ketamine.all"], records[408826])


# ---------------------------------------------------------------- validation

def minimal(raw):
    """The real registry cut to two claims, for mutation."""
    data = copy.deepcopy(raw)
    data["claims"] = data["claims"][:2]
    data.pop("excluded", None)
    return data


def test_minimal_registry_is_valid(raw):
    assert len(validate_registry(minimal(raw)).claims) == 2


@pytest.mark.parametrize("mutate, claim_id, field, reason", [
    (lambda d: d["claims"][1].update(id=d["claims"][0]["id"]), "efficacy.depression", "id", "duplicate id"),
    (lambda d: d["claims"][1].update(kind="anecdote"), "efficacy.trd", "kind", "unknown kind 'anecdote'"),
    (lambda d: d["claims"][1].update(query="  "), "efficacy.trd", "query", "empty query"),
    (lambda d: d["claims"][1].update(query="(ketamine[tiab] AND"), "efficacy.trd", "query",
     "not valid PubMed syntax"),
    (lambda d: d["claims"][1].update(query="{ketamin} AND TRD[tiab]"), "efficacy.trd", "query",
     "unknown query block {ketamin}"),
    (lambda d: d["claims"][1]["sources"][0].pop("paragraph"), "efficacy.trd", "sources[0]",
     "source locator has no paragraph"),
    (lambda d: d["claims"][1]["sources"][0].pop("sentence"), "efficacy.trd", "sources[0]",
     "source locator has no sentence"),
    (lambda d: d["claims"][1]["sources"][0].update(paragraph=-1), "efficacy.trd", "sources[0]",
     "whole number >= 0"),
    (lambda d: d["claims"][1].update(sources=[]), "efficacy.trd", "sources", "at least one source"),
    (lambda d: d["claims"][1].update(supporting_direction="up"), "efficacy.trd",
     "supporting_direction", "unknown direction"),
    (lambda d: d["claims"][1]["conditions"][0].update(mesh_ui="C123"), "efficacy.trd",
     "conditions[0]", "not a MeSH descriptor UI"),
    (lambda d: d["claims"][1].update(outcome_terms=[]), "efficacy.trd", "outcome_terms", "missing or empty"),
    (lambda d: d["claims"][1].update(evidence_level="high"), "efficacy.trd", "evidence_level", "unknown field"),
    (lambda d: d["claims"][1].pop("population"), "efficacy.trd", "population", "missing"),
])
def test_bad_registry_is_refused_naming_the_claim(raw, mutate, claim_id, field, reason):
    data = minimal(raw)
    mutate(data)
    with pytest.raises(RegistryError) as info:
        validate_registry(data)
    assert info.value.claim_id == claim_id and info.value.field == field
    assert reason in str(info.value) and repr(claim_id) in str(info.value)


def test_block_cycles_and_bad_ids_are_refused(raw):
    data = minimal(raw)
    data["query_blocks"] = {"a": "x[tiab] OR {b}", "b": "{a}"}
    with pytest.raises(RegistryError, match="refers to itself"):
        validate_registry(data)
    data = minimal(raw)
    data["claims"][0]["id"] = "Efficacy TRD"
    with pytest.raises(RegistryError, match="dotted lower-case"):
        validate_registry(data)


def test_quote_not_at_locator_is_refused(raw, tmp_path):
    data = minimal(raw)
    data["claims"][1]["sources"][0]["sentence"] = 0
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert info.value.claim_id == "efficacy.trd" and info.value.field == "sources[0]"
    assert "is not in" in str(info.value)
    # without the articles at hand the locator check is skipped
    assert len(load_registry(path, sources_dir=None)) == 2


def test_unreadable_registry_files_give_registry_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("claims: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="not valid YAML"):
        load(bad)
    with pytest.raises(RegistryError, match="cannot read registry"):
        load(tmp_path / "missing.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(RegistryError, match="mapping with a 'claims' list"):
        load(empty)


def test_missing_source_article_is_named(raw, tmp_path):
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(minimal(raw), allow_unicode=True), encoding="utf-8")
    with pytest.raises(RegistryError, match="source article '000_3c2647acb6e21906' not found"):
        registry_mod.load(path, sources_dir=tmp_path)
