"""Outcome vocabulary: which way is "better" for an outcome, and the words abstracts use for it.

Polarity matters because abstracts report improvement as often as they report a number going
down: "greater improvement in depression" is a fall in the depression score, "improved
remission" a rise in remission.
"""
from __future__ import annotations

import re

from .text import CaselessPattern, words

# Outcomes where less is better. Matched on word starts, so "depress" covers depression,
# depressive and depressed.
_BAD = (
    "depress", "symptom", "suicid", "pain", "anxi", "ptsd", "stress", "nausea", "vomit", "ponv",
    "advers", "side effect", "side-effect", "toxic", "mortal", "death", "die", "relapse",
    "recurren", "dissociat", "psychot", "hallucinat", "delirium", "agitation", "emergence",
    "respiratory depression", "apnea", "apnoea", "hypox", "desaturat", "hypertens", "tachycard",
    "craving", "use disorder", "abuse", "misuse", "dependen", "addict", "withdrawal", "cystitis",
    "urinary", "bladder", "cognitive impair", "impair", "complication", "infection", "failure",
    "bleeding", "haemorrhage", "hemorrhage", "opioid consumption", "morphine consumption",
    "analgesic consumption", "analgesic requirement", "length of stay", "disability", "severity",
    "hamd", "ham-d", "madrs", "hdrs", "bdi", "qids", "cadss", "bprs", "vas", "nrs",
    "fatigue", "insomnia", "shiver", "itch", "pruritus", "headache", "dizziness", "drowsiness",
    "sedation", "obsess", "compuls", "rumination", "anhedonia", "ideation", "attempt", "harm",
    "tumou", "tumor", "cancer", "lesion", "inflammat", "edema", "oedema", "cholesterol", "glucose",
    "hba1c", "weight gain", "blood pressure", "heart rate",
)
# Outcomes where more is better; checked first because "response to pain" is about response.
_GOOD = (
    "response", "responder", "remission", "quality of life", "qol", "wellbeing", "well-being",
    "function", "cognition", "memory", "survival", "satisfaction", "recovery", "cure", "healing",
    "adherence", "success", "efficacy", "improvement", "analgesia", "pain relief", "pain-free",
    "sleep quality", "abstinence", "engagement", "resilience", "neuroplastic", "synaptogen",
    "bdnf", "ejection fraction", "oxygen saturation",
)

BAD, GOOD, UNKNOWN = -1, 1, 0


def polarity(outcome: str) -> int:
    """-1 when a fall in the outcome is good, +1 when a rise is, 0 when the text does not say."""
    text = " " + " ".join(words(outcome or "")) + " "
    if not text.strip():
        return UNKNOWN
    for stem in _GOOD:
        if " " + stem in text:
            return GOOD
    for stem in _BAD:
        if " " + stem in text:
            return BAD
    return UNKNOWN


# Claim outcomes as they are phrased in articles, and the words abstracts use for them.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "depress": ("depression", "depressive", "madrs", "hamd", "ham-d", "hdrs", "bdi", "qids", "mood"),
    "suicid": ("suicidal ideation", "suicidality", "suicidal", "ssi", "suicide"),
    # Not "analgesic": "time to first analgesic request" rises when pain falls.
    "pain": ("pain", "nrs", "vas", "opioid consumption", "morphine consumption"),
    "anxi": ("anxiety", "anxious", "hama", "ham-a", "stai"),
    "ptsd": ("ptsd", "posttraumatic", "post-traumatic", "caps", "pcl"),
    "nausea": ("nausea", "vomiting", "ponv", "emesis"),
    "dissociat": ("dissociation", "dissociative", "cadss", "psychotomimetic"),
    "respiratory depression": ("respiratory depression", "apnea", "apnoea", "hypoxia", "desaturation",
                               "respiratory"),
    "blood pressure": ("blood pressure", "hypertension", "systolic", "diastolic", "hemodynamic", "haemodynamic"),
    "alcohol": ("alcohol", "drinking", "abstinence", "relapse"),
    "addict": ("addiction", "abuse", "misuse", "dependence", "use disorder", "craving"),
    "cystitis": ("cystitis", "urinary", "bladder", "uropathy"),
    "cognit": ("cognitive", "cognition", "memory", "neurocognitive"),
    "obsess": ("obsessive", "ocd", "y-bocs", "ybocs", "compulsive"),
    "delirium": ("delirium", "emergence", "agitation"),
}


def expand_terms(outcome: str) -> list[str]:
    """The outcome phrase itself plus the synonyms abstracts use for it, lower-case."""
    base = " ".join(words(outcome or ""))
    if not base:
        return []
    terms = [base]
    padded = " " + base + " "
    for key, syns in SYNONYMS.items():
        if " " + key in padded:
            terms.extend(syns)
    return list(dict.fromkeys(terms))


_TERM_STOP = frozenset("the a an of in on to and or with for by its their any all levels level rate rates "
                       "risk incidence severity".split())
# Words that name how an outcome is measured rather than what it is: on their own they would
# make every results sentence "about" the outcome.
_GENERIC = frozenset("""score scores scale scales level levels rate rates total mean median change changes time
times number numbers patients patient group groups validated measured measure measures incidence
duration proportion percentage percent day days week weeks month months hour hours minutes year years
after before during from baseline first second third end point points value values index assessed using
between within overall primary secondary outcome outcomes effect effects risk severity frequency
difference differences concentration concentrations participants subjects reported self rated clinical
postoperative study treatment therapy intervention control""".split())


def key_words(outcome: str) -> list[str]:
    """The content words of an outcome phrase: "time to first analgesic request" → analgesic, request;
    short names with a digit count too ("CD4 cell count" → cd4)."""
    return [w for w in dict.fromkeys(words(outcome or "")) if w[0].isalpha()
            and (len(w) >= 4 or (len(w) >= 2 and any(c.isdigit() for c in w)))
            and w not in _GENERIC and w not in _TERM_STOP]


_GIVEN_SHORT_FORM = re.compile(r"\(([A-Za-z][A-Za-z0-9\-]{1,9})\)")


def short_forms(outcome: str) -> list[str]:
    """Abbreviations a result sentence may use for the outcome: one the phrase gives in brackets
    ("total urine protein (TUP)"), and the initials of a phrase of three to six words
    ("apnea-hypopnea index" → ahi, "treatment-resistant depression" → trd)."""
    outcome = outcome or ""
    found = [m.lower() for m in _GIVEN_SHORT_FORM.findall(outcome)]
    # Measures and units ("100-mm", "24-h") are not part of a name's initials.
    bare = " ".join(w for w in re.sub(r"\([^)]*\)", " ", outcome).split() if w[:1].isalpha())
    parts = [w.lower() for w in re.split(r"[\s\-/]+", bare) if w[:1].isalpha()]
    content = [w for w in parts if w not in _TERM_STOP]
    if 3 <= len(content) <= 6:
        found.append("".join(w[0] for w in content))
    with_of = [w for w in parts if w == "of" or w not in _TERM_STOP]
    if 3 <= len(with_of) <= 6 and "of" in with_of:  # "range of motion" → rom
        found.append("".join(w[0] for w in with_of))
    return list(dict.fromkeys(found))


def term_matcher(terms, exact=()) -> CaselessPattern | None:
    """Finds any term; multi-word terms need their content words in order. `exact` words
    (abbreviations) must match whole: "vas" should not find "vascular"."""
    alts = {r"\b" + re.escape(w.lower()) + r"\b": w.lower() for w in exact}
    for term in terms:
        parts = [p for p in words(term) if p not in _TERM_STOP]
        if not parts:
            continue
        # Word starts, so "depressive symptoms" also finds "depression symptom scores".
        stems = [p[:6] if len(p) > 6 else p for p in parts]
        alts[r"\b" + r"\w*\W+(?:\w+\W+){0,3}?".join(map(re.escape, stems)) + r"\w*"] = stems[0]
    if not alts:
        return None
    # Longest first, so a phrase wins over a word it starts with; ties in a fixed order, as the
    # alternative tried first decides the span a match covers.
    return CaselessPattern("|".join(sorted(alts, key=lambda a: (-len(a), a))), alts.values())


def matcher_for(outcome: str, terms=()) -> CaselessPattern | None:
    """Finds the outcome in a sentence: its terms and their synonyms; with no terms, also the
    outcome's content words (a long outcome description is rarely repeated word for word, and
    curated terms are more precise than single words taken from a description)."""
    expanded = list(dict.fromkeys(list(terms) + expand_terms(outcome)))
    for term in terms:
        expanded.extend(t for t in expand_terms(term) if t not in expanded)
    if not terms:
        expanded.extend(w for w in key_words(outcome) if w not in expanded)
    return term_matcher(expanded, short_forms(outcome))
