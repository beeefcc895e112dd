"""Title/abstract → tokens for the design and population models, plus named cue tokens.

Cues are phrases whose meaning is stable across decades ("randomly assigned", "we report a
case", "PRISMA"); the 1970s training records use few of the modern ones, so giving each cue
its own token lets the model weight the idea rather than the spelling, and lets rules in
design.py act on them. Cues are words or short word sequences looked up in a set, never
regexes: set intersections are what keep tagging above 2,000 records a second.
"""
from __future__ import annotations

from itertools import compress

import numpy as np

from .text import TagInput, words

# name → the words, or word sequences of up to three words, that signal it (after `words()`,
# so punctuation is gone: "randomized, double-blind" is "randomized double-blind").
_CUE_PHRASES: dict[str, str] = {
    "meta": "meta-analysis|meta-analyses|meta-analytic|metaanalysis|meta analysis|meta analyses|network meta-analysis"
            "|pooled analysis|meta-regression|random-effects|random effects|random-effect|fixed-effects|fixed-effect"
            "|forest plot|funnel plot|pooled odds|pooled risk|pooled relative|pooled prevalence|pooled estimate"
            "|pooled estimates|pooled effect|pooled hazard|pooled mean|pooled sensitivity|pooled incidence"
            "|standardized mean|standardised mean",
    # A meta-analysis naming itself: enough without a database list ("147 studies were included in
    # our meta-analysis"). Only deictic forms: "X et al. performed a meta-analysis" or "a recent
    # network meta-analysis" in a trial's background cites someone else's.
    "metaself": "this meta-analysis|our meta-analysis|present meta-analysis|current meta-analysis|this meta-analytic"
                "|this meta-analyses",
    "sysrev": "systematic review|systematic reviews|systematically reviewed|systematic literature|systematic search"
              "|systematically searched|systematically review|systematic searches|literature was systematically"
              "|scoping review|umbrella review|searched pubmed|searched medline|searched embase|prisma"
              "|databases were searched|medline embase|pubmed embase",
    # Evidence-synthesis vocabulary: one alone is weak ("a literature search"), a database list
    # together with a statement about included studies is a systematic review.
    "dbsearch": "embase|cinahl|psycinfo|scopus|web of science|cochrane library|cochrane central|medline|pubmed"
                "|electronic databases|databases|searched the|literature search|from inception|google scholar",
    "synth": "included studies|studies were included|articles were included|trials were included|eligible studies"
             "|studies met|risk of bias|newcastle-ottawa|prospero|grade approach|studies included|studies involving"
             "|inclusion criteria|quality assessment|were identified|records were|full-text",
    "rand": "randomized|randomised|randomly assigned|randomly allocated|randomly divided|allocated at random"
            "|at random to|at random into|randomization|randomisation|randomly",
    "rct": "randomized controlled|randomised controlled|randomized clinical|randomised clinical|randomized double-blind"
           "|randomised double-blind|randomized placebo-controlled|randomised placebo-controlled|randomized trial"
           "|randomised trial|randomized crossover|randomly assigned|were randomized|were randomised|rct|rcts"
           "|randomly allocated|randomized study|randomised study|prospective randomized|prospective randomised"
           "|randomized prospective|randomised prospective|double-blind randomized|double-blind randomised"
           "|randomized comparison|randomized fashion|randomised fashion|cluster randomized|cluster-randomized"
           "|cluster randomised|cluster-randomised|randomized multicenter|randomized multicentre"
           "|randomised multicentre|randomized open-label|randomised open-label|randomized pilot|randomised pilot"
           "|randomized phase|randomised phase|randomized into|randomised into|randomly administered"
           "|randomly given|random order|randomly received|we randomised|we randomized|randomly divided"
           "|simple randomization|simple randomisation|block randomization|block randomisation"
           "|stratified randomization|stratified randomisation",
    "blind": "double-blind|double blind|single-blind|single blind|triple-blind|placebo-controlled|placebo controlled"
             "|double-masked|double-blinded|single-blinded",
    "placebo": "placebo",
    "trial": "trial|trials",
    "openlabel": "open-label|open label|single-arm|single arm|single-group|uncontrolled|non-randomized|nonrandomized"
                 "|non-randomised",
    "singlearm": "single-arm|single arm|single-group|one-arm|open-label single",
    "phase": "phase i|phase ii|phase iii|phase iv|phase 1|phase 2|phase 3|phase 4|phase ib|phase iia|phase iib",
    "casereport": "case report|case of|case presentation|we report a|we report an|report the case|we describe a"
                  "|we describe an|we present a|we present an|present the case|case is described|case is reported"
                  "|case is presented|patient is described|patient is presented|is described|is reported"
                  "|are described|author reports|authors report|authors describe|unusual case|rare case|two cases"
                  "|three cases|four cases|two patients|three patients",
    "caseseries": "case series|case-series",
    # One patient, said outright: stronger than "casereport", which also fires on "two patients".
    "onecase": "case report|we report a case|we present a case|we describe a case|report a case|present a case"
               "|describe a case|reported a case|report the case|present the case|describe the case"
               "|case presentation|a case of",
    "wereport": "we report|we present|we describe|herein we|here we report|here we present|here we describe",
    "chartreview": "retrospective review|retrospectively reviewed|chart review|consecutive patients|consecutive cases"
                   "|we reviewed|records were reviewed",
    "cohort": "cohort|cohorts|prospectively followed|prospective study|prospective observational|followed up"
              "|longitudinal|registry|population-based",
    "casecontrol": "case-control|case control|matched controls|matched control|cases and controls",
    "crosssec": "cross-sectional|cross sectional|survey|questionnaire|prevalence",
    "retro": "retrospective|retrospectively",
    "protocol": "study protocol|protocol for|this protocol|will be randomized|will be randomised|will be randomly"
                "|will be recruited"
                "|will be enrolled|will be assessed|will be measured|will be conducted|will be included"
                "|will be compared|will be performed",
    "guideline": "guideline|guidelines|consensus statement|consensus conference|recommendations|position statement"
                 "|position paper|best practice|best practices",
    "review": "review|reviews|reviewed|we discuss|is discussed|are discussed|overview|current knowledge"
              "|the literature|recent advances|state of the",
    "editorial": "editorial|commentary|in reply|reply to|author reply|authors reply|comment on|letter to the editor"
                 "|dear editor|letter regarding|response to the letter|author response|authors response"
                 "|response to comment|response to comments|letter to editor",
    "opinion": "editorial|commentary|comment on|letter|in reply|in response to|viewpoint|perspective|we argue|i argue"
               "|opinion|dear editor|the editor",
    "animal": "rat|rats|mice|mouse|murine|rodent|rodents|dog|dogs|canine|cat|cats|feline|rabbit|rabbits|monkey|monkeys"
              "|primate|primates|macaque|macaques|pig|pigs|piglet|piglets|swine|porcine|sheep|ovine|lamb|lambs|ewe"
              "|ewes|cattle|cow|cows|calves|bovine|horse|horses|equine|hamster|hamsters|chick|chicks|chicken"
              "|chickens|zebrafish|frog|frogs|xenopus|drosophila|animal|animals|sprague-dawley|wistar|guinea-pig"
              "|guinea-pigs|guinea pigs|c57bl|pony|ponies|baboon|baboons|marmoset|marmosets|ferret|ferrets|gerbil"
              "|gerbils|goat|goats|quail|pigeon|pigeons|duck|ducks|ducklings|turkeys|cockerel|cockerels|hen|hens"
              "|trout|goldfish|teleost|insect|insects|larvae|larval|snail|snails|toad|toads"
              "|lizard|lizards|turtle|turtles|bats|deer|camel|camels|buffaloes|rhesus monkey|cynomolgus|squirrel"
              "|squirrels|opossum|mink|heifer|heifers|bulls|steers|foal|foals|puppies|kitten|kittens"
              "|beagle|beagles|mongrel|minipig|minipigs|broiler|broilers|poultry|livestock|veterinary"
              "|invertebrates|amphibian|avian|mus musculus"
              "|knockout mice|transgenic mice|wild-type mice|nude mice|balb c|long-evans|dogs were|rats were"
              "|mice were",
    "invitro": "in vitro|cultured|cell line|cell lines|cell culture|cell cultures|isolated perfused|homogenate"
               "|homogenates|slices|microsomes|microsomal",
    "human": "patient|patients|women|men|woman|man|children|child|infant|infants|volunteers|volunteer|participants"
             "|participant|subjects|human|humans|adult|adults|neonates|neonate|pregnant|pregnancy|clinical|hospital"
             "|hospitalized|outpatients|inpatients",
    "future": "will be|we will|is expected to",
}
_CUES = {name: frozenset(phrases.split("|")) for name, phrases in _CUE_PHRASES.items()}
_CUE_OF: dict[str, list[str]] = {}
for _name, _phrases in _CUES.items():
    for _phrase in _phrases:
        _CUE_OF.setdefault(_phrase, []).append(_name)
_ALL_PHRASES = frozenset(_CUE_OF)
# Only triples starting with one of these words can be a cue: the rest need not be built.
_TRIPLE_STARTS = frozenset(p.split()[0] for phrases in _CUES.values() for p in phrases if p.count(" ") == 2)
# Cues inside a hyphenated token ("a 45-year-old woman") or an identifier ("NCT02020889"), looked
# for in the raw text instead: (cue, a substring all its infixes share, the infixes). The shared
# substring is one scan that usually rules the whole group out.
_INFIXES = (
    ("casereport", "-old", ("-year-old", "-month-old", "-week-old", "-day-old")),
    ("aged", "-old", ("-year-old", "-month-old")),
    # Trial registry numbers, case kept so "nct" inside a word cannot match.
    ("trialreg", "CT", ("NCT0", "ISRCTN", "ChiCTR", "ACTRN", "EudraCT", "IRCT2", "CTRI/", "PACTR", "JRCT", "jRCT")),
    ("trialreg", "", ("DRKS0", "UMIN0", "linicalTrials.gov", "linicaltrials.gov")),
)


def grams(seq: list[str]) -> tuple[set[str], set[str]]:
    """(words and word pairs, the word triples cue phrases can be), joined by a space."""
    pairs = set(seq)
    pairs.update([f"{a} {b}" for a, b in zip(seq, seq[1:])])
    return pairs, _triples(seq)


def _triples(seq: list[str]) -> set[str]:
    # Few words can start a triple cue: find them in C, build only those triples.
    starts = compress(range(len(seq) - 2), map(_TRIPLE_STARTS.__contains__, seq))
    return {f"{seq[i]} {seq[i + 1]} {seq[i + 2]}" for i in starts}


def cues(found_in: tuple[set[str], set[str]], text: str = "") -> set[str]:
    """Cue names whose phrases occur in a `grams()` result (or, for infixes, in `text`)."""
    pairs, triples = found_in
    return _names(_ALL_PHRASES.intersection(pairs) | _ALL_PHRASES.intersection(triples), text)


def _names(phrases: set[str], text: str) -> set[str]:
    found = set()
    for phrase in phrases:
        found.update(_CUE_OF[phrase])
    if text:
        for name, gate, infixes in _INFIXES:
            if name not in found and gate in text and any(map(text.__contains__, infixes)):
                found.add(name)
    return found


# Word pairs by number. Building every pair of a record as a string, hashing it and probing a set
# was the largest cost of tagging; a pair's key is instead mixed from its two words' string hashes
# (which splitting already needs) in one vectorised step, and looked up by that number.
# For a fixed first word the mix is a bijection of the second, so two pairs share a key only by a
# 64-bit coincidence, the same odds the model lookup by string hash already accepts.
_PAIR_MIX = np.int64(-7046029254386353131)  # 0x9E3779B97F4A7C15, odd


def word_hashes(seq: list[str]) -> np.ndarray:
    return np.fromiter(map(hash, seq), dtype=np.int64, count=len(seq))


def pair_keys(hashes: np.ndarray) -> np.ndarray:
    """The key of each adjacent word pair, from `word_hashes()` of the words."""
    return hashes[:-1] * _PAIR_MIX + hashes[1:]  # wraps modulo 2**64, as intended


def phrase_keys(phrases: list[str]) -> np.ndarray:
    """The key of each phrase of two or more words ("a b"), in order: its first word's hash mixed
    with each next word's as `pair_keys()` does, so a pair's key is the pair key of its words."""
    parts = [p.split(" ") for p in phrases]
    keys = np.zeros(len(parts), dtype=np.int64)
    for width in sorted({len(w) for w in parts}):
        at = [i for i, w in enumerate(parts) if len(w) == width]
        key = word_hashes([parts[i][0] for i in at])
        for k in range(1, width):
            key = key * _PAIR_MIX + word_hashes([parts[i][k] for i in at])
        keys[at] = key
    return keys


# A bit per slot a cue key's low bits name: one gather rules out nearly every run of words, and
# the few that pass are checked as strings, so a shared slot can cost time but never add a cue.
_CUE_SLOT_MASK = (1 << 16) - 1
_CUE_SLOTS = np.zeros(_CUE_SLOT_MASK + 1, dtype=bool)
_CUE_SLOTS[phrase_keys([p for p in _ALL_PHRASES if p.count(" ") in (1, 2)]) & _CUE_SLOT_MASK] = True


def _phrases_at(seq: list[str], hashes: np.ndarray, keys: np.ndarray) -> list[tuple[int, str]]:
    """(end, phrase) of every cue phrase of two or three words in `seq`, found by key: `hashes`
    and `keys` are its `word_hashes()` and `pair_keys()`."""
    runs = np.concatenate((keys, keys[:-1] * _PAIR_MIX + hashes[2:]))  # pairs, then triples
    out = []
    for j in np.flatnonzero(_CUE_SLOTS[runs & _CUE_SLOT_MASK]).tolist():
        start, width = (j, 2) if j < len(keys) else (j - len(keys), 3)
        phrase = " ".join(seq[start:start + width])
        if phrase in _ALL_PHRASES:
            out.append((start + width, phrase))
    return out


def _cue_names(seq: list[str], phrases: list[tuple[int, str]], text: str) -> set[str]:
    """Cue names of `seq`'s one-word phrases and of `phrases` (from `_phrases_at`)."""
    return _names(_ALL_PHRASES.intersection(seq) | {p for _, p in phrases}, text)


def _cues_by_key(seq: list[str], hashes: np.ndarray, keys: np.ndarray, text: str) -> set[str]:
    """`cues(grams(seq), text)`, finding phrases of two and three words by key, not string."""
    return _cue_names(seq, _phrases_at(seq, hashes, keys), text)


def _without_conclusion(inp: TagInput) -> str:
    """The abstract minus its conclusion: the labelled section, else the last sentence."""
    if any("CONCLU" in label for label, _ in inp.sections):
        return " ".join(text for label, text in inp.sections if "CONCLU" not in label)
    text = inp.abstract.rstrip()
    return text[:max(0, text.rfind(". "))]


def record_parts(inp: TagInput, title: list[str] | None = None, body: list[str] | None = None):
    """What `record_tokens` is made of, with the word pairs left as keys.

    Returns (words of title and abstract, their `word_hashes()`, their `pair_keys()`, the other
    tokens, cue names, cue names in the title alone). The model tokens are the words, the pairs
    of adjacent words joined by a space, and the other tokens.
    """
    title = words(inp.title) if title is None else title
    body = words(inp.abstract) if body is None else body
    seq = title + body
    hashes = word_hashes(seq)
    keys = pair_keys(hashes)
    phrases = _phrases_at(seq, hashes, keys)
    found = _cue_names(seq, phrases, inp.text)
    if "rct" in found or "rand" in found:
        # Only "further randomized controlled trials are needed" does not make a trial.
        before_seq = title + words(_without_conclusion(inp))
        before_hashes = word_hashes(before_seq)
        before = _cues_by_key(before_seq, before_hashes, pair_keys(before_hashes), "")
        found.difference_update({"rct", "rand"} - before)
    # The title's cues are those whose phrase ends within it: seq starts with the title.
    title_cues = _cue_names(title, [(end, p) for end, p in phrases if end <= len(title)], inp.title)
    other = ["t:" + w for w in title]
    other += ["sec:" + label.lower() for label, _ in inp.sections if label]
    other += ["cue:" + c for c in found]
    other += ["tcue:" + c for c in title_cues]
    if not body:
        other.append("no_abstract")
    elif len(body) < 80:
        other.append("short_abstract")
    return seq, hashes, keys, other, found, title_cues


def tokens_of(seq: list[str], other: list[str]) -> set[str]:
    """The model tokens of `record_parts()`, as strings."""
    out = set(seq)
    out.update([f"{a} {b}" for a, b in zip(seq, seq[1:])])
    out.update(other)
    return out


def record_tokens(inp: TagInput, title: list[str] | None = None,
                  body: list[str] | None = None) -> tuple[set[str], set[str], set[str]]:
    """(tokens for the design/population models, cue names, cue names in the title alone).

    `title` and `body` are the `words()` of title and abstract when the caller has them already.
    """
    seq, _, _, other, found, title_cues = record_parts(inp, title, body)
    return tokens_of(seq, other), found, title_cues
