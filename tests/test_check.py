"""The draft checker: finds the claims of the seed articles, stays quiet on non-claims, shows
evidence, and turns bad input into clear errors."""
import gzip
import io
import re

import pytest

from pipeline.check import (MAX_BYTES, CheckInputError, check_file, check_text, format_report,
                            main_check, summarize)
from pipeline.claims import SOURCES_DIR, load
from pipeline.config import REPO_ROOT

ARTICLES = ["000_3c2647acb6e21906", "001_bb0aeada6ae8501b"]


def claim_ids(result):
    return {m.claim_id for m in result.matches}


@pytest.fixture(scope="module")
def seed_results():
    return {stem: check_file(SOURCES_DIR / f"{stem}.txt") for stem in ARTICLES}


# ---------------------------------------------------------------- recall on the seed articles

@pytest.mark.parametrize("article", ARTICLES)
def test_checker_finds_the_claims_registered_from_each_seed_article(article, seed_results):
    by_locator = {r.locator: r for r in seed_results[article]}
    located = [(c.id, s) for c in load().claims for s in c.sources if s.article == article]
    # every (claim, source sentence) pair: the sentence is read as a claim and mapped to it
    found = [cid for cid, s in located if cid in claim_ids(by_locator[(s.paragraph, s.sentence)])]
    assert len(found) / len(located) >= 0.9, sorted({cid for cid, _ in located} - set(found))
    # and at the level of claims: each registered claim is matched somewhere in its article
    registered = {cid for cid, _ in located}
    matched = {cid for r in seed_results[article] for cid in claim_ids(r)}
    assert len(registered & matched) / len(registered) >= 0.9


# A writer's own wording, written without looking at the cue lists.
PARAPHRASES = [
    ("Esketamine nasal spray lowered depression scores in adults whose depression had resisted "
     "several antidepressants.", {"delivery.intranasal_esketamine", "efficacy.trd"}),
    ("Ketamine can lift depressive symptoms within a day of the first infusion.", {"onset.hours"}),
    ("A single ketamine infusion is often enough to bring relief.", {"onset.single_infusion"}),
    ("Unfortunately the antidepressant effect of ketamine usually wears off after a week or two.",
     {"durability.fades"}),
    ("Patients often need maintenance infusions of ketamine every few weeks.", {"durability.boosters"}),
    ("Ketamine is also used for people with post-traumatic stress disorder.", {"efficacy.ptsd"}),
    ("Some clinics offer ketamine for obsessive-compulsive disorder.", {"efficacy.ocd"}),
    ("Ketamine infusions can ease the pain of complex regional pain syndrome.", {"efficacy.crps"}),
    ("People with fibromyalgia may get pain relief from ketamine.", {"efficacy.fibromyalgia"}),
    ("Ketamine blocks NMDA receptors in the brain.", {"mechanism.nmda"}),
    ("Ketamine boosts BDNF, a growth factor for neurons.", {"mechanism.bdnf"}),
    ("Ketamine promotes synaptogenesis and the growth of dendritic spines.", {"mechanism.synaptogenesis"}),
    ("Ketamine has anti-inflammatory effects in the brain.", {"mechanism.inflammation"}),
    ("Ketamine quiets the default mode network.", {"mechanism.dmn"}),
    ("Unlike opioids, ketamine does not cause respiratory depression.", {"safety.respiratory"}),
    ("Nausea is one of the most frequent side effects of ketamine.", {"side_effect.nausea"}),
    ("Ketamine can make your blood pressure go up for a while.", {"side_effect.blood_pressure"}),
    ("Many people feel dizzy after a ketamine session.", {"side_effect.dizziness"}),
    ("Ketamine often produces dissociation, a feeling of being outside your body.",
     {"side_effect.dissociation"}),
    ("Some patients hallucinate during ketamine treatment.", {"side_effect.perceptual"}),
    ("Recreational ketamine use can lead to addiction.", {"abuse.misuse"}),
    ("At the low doses used in clinics, ketamine rarely leads to dependence.", {"abuse.therapeutic_dose"}),
    ("Ketamine should be avoided in people with schizophrenia.", {"contraindication.psychosis"}),
    ("Oral ketamine tablets are an option for some patients.", {"delivery.oral"}),
    ("Intramuscular ketamine injections work as well as infusions.", {"delivery.im"}),
    ("Ketamine-assisted psychotherapy may make the benefits last longer.", {"practice.psychotherapy"}),
    ("Not everyone responds to ketamine; some patients are non-responders.",
     {"efficacy.response_variability"}),
    ("Ketamine helps people with bipolar depression.", {"efficacy.bipolar_depression"}),
    ("Ketamine reduces social anxiety.", {"efficacy.social_anxiety"}),
    ("Ketamine eases neuropathic pain.", {"efficacy.neuropathic_pain"}),
    ("Patients should not drive after a ketamine treatment.", {"safety.driving"}),
    ("Sleepiness is common after ketamine.", {"side_effect.drowsiness"}),
    ("Ketamine can leave people briefly confused.", {"side_effect.confusion"}),
    ("Ketamine reduces rumination.", {"efficacy.rumination"}),
    ("Ketamine is safe when given in a clinic.", {"safety.serious_adverse_events"}),
]


def test_checker_maps_a_writers_own_wording():
    scores = []
    for sentence, expected in PARAPHRASES:
        [result] = check_text(sentence)
        assert result.is_claim, sentence
        scores.append(len(expected & claim_ids(result)) / len(expected))
    assert sum(scores) / len(scores) >= 0.85


# ---------------------------------------------------------------- what counts as a claim

def test_seed_boilerplate_and_headings_are_not_claims(seed_results):
    by_locator = {r.locator: r for r in seed_results["000_3c2647acb6e21906"]}
    assert by_locator[(19, 0)].sentence.startswith("Share your achievements")
    assert not by_locator[(19, 0)].is_claim and not by_locator[(20, 0)].is_claim
    assert not by_locator[(1, 0)].is_claim          # "What Is Ketamine?"
    assert not by_locator[(3, 0)].is_claim          # "How Ketamine Therapy Works"
    assert not by_locator[(0, 2)].is_claim          # "This article takes a closer look ..."
    by_locator = {r.locator: r for r in seed_results["001_bb0aeada6ae8501b"]}
    assert not by_locator[(15, 0)].is_claim         # "Major Depressive Disorder and ..." heading


def test_non_claims_in_a_ketamine_draft():
    text = ("Ketamine relieves depression within hours.\n"
            "Call the clinic to book an appointment. Our office is on Main Street.\n"
            "Compounds like psilocybin are being studied to treat depression.\n"
            "Is ketamine right for you?\n")
    results = check_text(text)
    assert [r.is_claim for r in results] == [True, False, False, False, False]
    assert {"efficacy.depression", "onset.hours"} <= claim_ids(results[0])


def test_text_without_ketamine_makes_no_ketamine_claims():
    results = check_text("Sertraline reduces depressive symptoms. Exercise improves mood.")
    assert not any(r.is_claim for r in results)
    assert "No sentence makes a ketamine-related claim" in format_report(results)


def test_pronouns_carry_the_ketamine_context():
    results = check_text("Ketamine is an anaesthetic. It also relieves depression in a few hours.")
    assert results[1].is_claim and "onset.hours" in claim_ids(results[1])


def test_longest_phrase_wins_and_exact_matches_say_why():
    [r] = check_text("Ketamine helps treatment-resistant depression.")
    assert "efficacy.trd" in claim_ids(r) and "efficacy.depression" not in claim_ids(r)
    match = next(m for m in r.matches if m.claim_id == "efficacy.trd")
    assert match.confidence >= 0.7 and "treatment-resistant depression" in match.reason


def test_acronyms_keep_their_case():
    assert "delivery.im" in claim_ids(check_text("Ketamine can be given IM.")[0])
    assert "delivery.im" not in claim_ids(check_text("Ketamine, im told, helps.")[0])


def test_unregistered_and_left_out_claims_are_reported():
    unregistered, left_out = check_text("Ketamine cures tinnitus. Ketamine therapy is expensive "
                                        "and insurance rarely covers it.")
    assert unregistered.is_claim and not unregistered.matches
    assert unregistered.note == "unregistered claim"
    assert left_out.note.startswith("left out of the registry: price and insurance")
    s = summarize([unregistered, left_out])
    assert (s["claim_sentences"], s["unregistered"], s["left_out"]) == (2, 1, 1)


def test_similarity_fallback_when_no_term_matches():
    [r] = check_text("Ketamine's antidepressant benefit is not permanent for most people.")
    assert "durability.fades" in claim_ids(r)


# ---------------------------------------------------------------- evidence in the report

def test_report_shows_evidence_counts_and_gaps():
    calls = []

    def evidence(claim_id):
        calls.append(claim_id)
        if claim_id == "efficacy.ptsd":
            return {"records": 7, "by_design": {"rct": 3, "case_series": 4},
                    "by_direction": {"supports": 5, "no_difference": 2}}
        return None

    results = check_text("Ketamine relieves PTSD. Ketamine relieves PTSD quickly. "
                         "Ketamine causes nausea.", evidence=evidence)
    report = format_report(results, "draft.txt")
    assert calls.count("efficacy.ptsd") == 1      # one lookup per claim, not per sentence
    assert "7 records; design: case_series 4, rct 3; direction: supports 5, no_difference 2" in report
    assert "evidence: no evidence in store" in report
    assert results[2].evidence == {"side_effect.nausea": None}


def test_failing_evidence_lookup_is_noted_not_raised():
    def broken(claim_id):
        raise RuntimeError("store is locked")

    [r] = check_text("Ketamine relieves PTSD.", evidence=broken)
    assert "evidence lookup failed for efficacy.ptsd: store is locked" in r.note
    assert "efficacy.ptsd" in claim_ids(r)


# ---------------------------------------------------------------- bad input

def run_main(path, **kw):
    out, err = io.StringIO(), io.StringIO()
    return main_check(path, out=out, err=err, **kw), out.getvalue(), err.getvalue()


def test_main_check_prints_a_report(tmp_path):
    code, out, err = run_main(SOURCES_DIR / "001_bb0aeada6ae8501b.txt")
    assert code == 0 and not err
    assert out.startswith("Checked 001_bb0aeada6ae8501b.txt:")
    assert "efficacy.crps" in out and "no evidence in store" in out


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"  \n\n\t\n", "is empty"),
    (b"\xef\xbb\xbf\n", "is empty"),
    (b"Ketamine r\xe9duit la d\xe9pression.\n", "not UTF-8 text: byte 0xE9 at line 1, column 11"),
    (b"Ketamine\x00\x01\x02\x00", "binary file (it contains NUL bytes)"),
    (b"%PDF-1.7\n%\xe2\xe3", "is a PDF document"),
    (b"Ketamine \x01\x02\x03\x04\x05\x06\x07\x08 helps", "control characters"),
])
def test_bad_files_get_clear_errors(tmp_path, content, message):
    path = tmp_path / "draft.txt"
    path.write_bytes(content)
    with pytest.raises(CheckInputError, match=re.escape(message)):
        check_file(path)
    code, out, err = run_main(path)
    assert code == 2 and not out and message.split(":")[0] in err and "Traceback" not in err


def test_real_binary_file_is_refused(tmp_path):
    # a real gzip-compressed PubMed record named like a draft
    path = tmp_path / "draft.txt"
    path.write_bytes((REPO_ROOT / "data" / "raw" / "snapshot" / "38011560.xml.gz").read_bytes())
    with pytest.raises(CheckInputError, match="gzip-compressed data, not plain text"):
        check_file(path)


def test_other_encodings_can_be_named_or_are_detected(tmp_path):
    path = tmp_path / "draft.txt"
    path.write_bytes("Ketamine relieves depression \u2013 caf\u00e9 talk.".encode("cp1252"))
    with pytest.raises(CheckInputError, match="cp1252"):
        check_file(path)
    [r] = check_file(path, encoding="cp1252")
    assert "efficacy.depression" in claim_ids(r)
    path.write_bytes("Ketamine relieves depression.".encode("utf-16"))   # BOM + NUL bytes
    assert "efficacy.depression" in claim_ids(check_file(path)[0])
    with pytest.raises(CheckInputError, match="unknown encoding"):
        check_file(path, encoding="klingon")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CheckInputError, match="no such file"):
        check_file(tmp_path / "nope.txt")
    with pytest.raises(CheckInputError, match="not a regular file"):
        check_file(tmp_path)


def test_five_megabyte_input_is_refused_naming_the_limit(tmp_path):
    seed = (SOURCES_DIR / "000_3c2647acb6e21906.txt").read_text(encoding="utf-8") + "\n"
    big = seed * (5_000_000 // len(seed) + 1)
    path = tmp_path / "big.txt"
    path.write_text(big, encoding="utf-8")
    with pytest.raises(CheckInputError, match=f"at most {MAX_BYTES:,} bytes"):
        check_file(path)
    with pytest.raises(CheckInputError, match="characters; the checker reads at most"):
        check_text(big)
    code, _, err = run_main(path)
    assert code == 2 and "split the draft" in err


def test_long_input_under_the_limit_gives_a_bounded_correct_result():
    # one 300,000-character "sentence" with no full stop, then a real claim
    text = "Ketamine " + "and " * 75_000 + "\nKetamine relieves PTSD."
    results = check_text(text)
    assert len(results) == 2 and "efficacy.ptsd" in claim_ids(results[1])
    report = format_report(results)
    assert max(len(line) for line in report.splitlines()) < 400


def test_check_text_rejects_non_text():
    with pytest.raises(CheckInputError, match="expected text"):
        check_text(gzip.compress(b"Ketamine relieves depression."))
    with pytest.raises(CheckInputError, match="NUL"):
        check_text("Ketamine\x00 relieves depression.")
    with pytest.raises(CheckInputError, match="empty"):
        check_text("   ")
