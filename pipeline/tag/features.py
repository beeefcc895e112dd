"""Title/abstract → tokens for the design and population models, plus named cue tokens.

Cues are phrases whose meaning is stable across decades ("randomly assigned", "we report a
case", "PRISMA"); the 1970s training records use few of the modern ones, so giving each cue
its own token lets the model weight the idea rather than the spelling, and lets rules in
design.py act on them.
"""
from __future__ import annotations

import re

from .text import TagInput, words

_CUES: dict[str, str] = {
    "meta": r"\bmeta-?\s?analy[sz]\w*|\bpooled analysis of \d+ (?:studies|trials)|\bnetwork meta",
    "sysrev": r"\bsystematic(?:ally)? (?:review|search|literature)|\bprisma\b|\bscoping review|\bumbrella review"
              r"|\bsearched (?:the )?(?:pubmed|medline|embase|cochrane|web of science|psycinfo|databases?)"
              r"|\b(?:pubmed|medline|embase|cochrane library|psycinfo),? (?:and|or|,)",
    "rand": r"\brandomi[sz]ed\b|\brandomi[sz]ation\b|\brandomly (?:assigned|allocated|divided|selected to receive)"
            r"|\ballocated at random\b|\bat random (?:to|into)\b",
    "rct": r"\brandomi[sz]ed,? (?:\w+[- ]){0,4}(?:controlled|clinical|double|single|placebo|crossover|cross-over"
           r"|comparative|prospective|trial|study)|\brandomly assigned\b|\bwere randomi[sz]ed\b|\brct\b",
    "blind": r"\bdouble[- ]blind\w*|\bsingle[- ]blind\w*|\btriple[- ]blind\w*|\bplacebo[- ]controlled",
    "placebo": r"\bplacebo\b",
    "trial": r"\btrial\b",
    "openlabel": r"\bopen[- ]label\b|\bsingle[- ]arm\b|\bsingle[- ]group\b|\buncontrolled\b|\bnon-?randomi[sz]ed\b",
    "singlearm": r"\bsingle[- ]arm\b|\bsingle[- ]group\b|\bone[- ]arm\b",
    "phase": r"\bphase (?:i{1,3}|iv|[1-4])[ab]?\b",
    "casereport": r"\b(?:we|i) (?:report|describe|present)\w* (?:a|an|the|this|two|three) (?:\w+ ){0,3}"
                  r"(?:cases?|patients?|man|woman|boy|girl|child|infant)\b|\bcase report\b|\ba case of\b"
                  r"|\bcase presentation\b|\b\d+-(?:year|month|week|day)-old\b|\byear-old\b",
    "caseseries": r"\bcase series\b|\bwe (?:report|describe|present|reviewed) (?:\d+|[a-z]+teen|[a-z]+ty(?:-\w+)?) "
                  r"(?:consecutive )?(?:cases|patients)\b|\bretrospective(?:ly)? review\w*\b|\bchart review",
    "cohort": r"\bcohort\b|\bprospective(?:ly)? (?:followed|observational|study|studied)|\bfollowed (?:up )?for\b"
              r"|\blongitudinal\b|\bregistry\b|\bpopulation-based\b",
    "casecontrol": r"\bcase-?control\b|\bmatched controls?\b|\bcases and (?:\d+ )?controls\b",
    "crosssec": r"\bcross-?sectional\b|\bsurvey\b|\bquestionnaire\b|\bprevalence\b",
    "retro": r"\bretrospective\w*\b",
    "protocol": r"\bstudy protocol\b|\bprotocol for\b|\bthis protocol\b|\bwill be (?:randomi[sz]ed|recruited|enrolled"
                r"|assessed|measured|conducted|included|performed|compared)\b|\btrial registration\b.{0,40}\bprospective",
    "guideline": r"\bguidelines?\b|\bconsensus (?:statement|conference|recommendation)|\brecommendations?\b"
                 r"|\bposition (?:statement|paper)\b|\bbest practice",
    "review": r"\breview\w*\b|\bwe discuss\b|\bis discussed\b|\bare discussed\b|\boverview\b|\bcurrent knowledge\b"
              r"|\bliterature\b|\brecent advances\b|\bstate of the art\b",
    "opinion": r"\beditorial\b|\bcomment(?:ary|s)? on\b|\bletter\b|\bin reply\b|\bin response to\b|\bviewpoint\b"
               r"|\bperspective\b|\bwe argue\b|\bi argue\b|\bopinion\b|\bdear editor\b|\bto the editor\b",
    "animal": r"\b(?:rats?|mice|mouse|murine|rodents?|dogs?|canine|cats?|feline|rabbits?|monkeys?|primates?|macaques?"
              r"|pigs?|piglets?|swine|porcine|sheep|ovine|lambs?|ewes?|cattle|cows?|calves|bovine|horses?|equine"
              r"|guinea[- ]pigs?|hamsters?|chick(?:s|ens?)?|zebrafish|frogs?|xenopus|drosophila|animals?"
              r"|sprague|wistar|c57bl)\b",
    "invitro": r"\bin vitro\b|\bcultured\b|\bcell lines?\b|\bcell cultures?\b|\bisolated (?:\w+ ){0,2}"
               r"(?:cells|tissue|hearts?|muscles?|preparations?|mitochondria|membranes|strips|slices)\b"
               r"|\bhomogenates?\b|\bslices\b|\bmicrosom\w*",
    "human": r"\bpatients?\b|\bwomen\b|\bmen\b|\bchildren\b|\binfants?\b|\bvolunteers?\b|\bparticipants?\b"
             r"|\bsubjects\b|\bhumans?\b|\badults?\b|\bneonates?\b|\bpregnan\w*|\bclinical\b|\bhospital\w*",
    "future": r"\bwill be\b|\bwe will\b|\bis expected to\b",
}
_CUE_RES = {name: re.compile(rx, re.I) for name, rx in _CUES.items()}


def cues(text: str) -> set[str]:
    return {name for name, rx in _CUE_RES.items() if rx.search(text)}


def record_tokens(inp: TagInput, cue_set: set[str] | None = None) -> list[str]:
    """Tokens for the design/population models: title words apart, abstract n-grams, cues."""
    title = words(inp.title)
    body = words(inp.abstract)
    out = ["t:" + w for w in title]
    seq = title + body
    out.extend(seq)
    out.extend(f"{a}_{b}" for a, b in zip(seq, seq[1:]))
    for label, _ in inp.sections:
        if label:
            out.append("sec:" + label.lower())
    if cue_set is None:
        cue_set = cues(inp.text)
    out.extend("cue:" + c for c in cue_set)
    out.extend("tcue:" + c for c in cues(inp.title))
    if not body:
        out.append("no_abstract")
    elif len(body) < 80:
        out.append("short_abstract")
    return out
