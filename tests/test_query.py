"""PubMed query syntax: clear errors for malformed queries, and matching on real records."""
from datetime import date

import pytest

from pipeline.parse import iter_pubmed
from pipeline.query import (BoolOp, DateRange, QuerySyntaxError, Term, matches, parse_query,
                            prepare, validate)
from twin import FIXTURES


@pytest.mark.parametrize("q, position, reason", [
    ("", 0, "empty query"),
    ("(ketamine AND depression", 0, "unclosed '('"),
    ("ketamine) AND depression", 8, "')' without a matching '('"),
    ('"ketamine infusion AND depression', 0, "unclosed quote"),
    ("ketamine AND", 9, "AND has no term on its right"),
    ("OR ketamine", 0, "OR has no term on its left"),
    ("ketamine AND OR depression", 13, "OR directly after AND"),
    ("(ketamine OR) depression", 10, "OR has no term on its right"),
    ("ketamine[foo]", 8, "unknown field tag [foo]"),
    ("ketamine[tiab", 8, "unclosed field tag"),
    ("ketamine] AND x", 8, "']' without a matching '['"),
    ("[tiab] ketamine", 0, "has no term before it"),
    ('""[tiab]', 0, "empty phrase"),
    ("ketamine AND ()", 13, "empty parentheses"),
    ("---[tiab]", 0, "no letters or digits"),
    ("ket*[tiab]", 3, "at least four characters"),
    ("keta*mine", 4, "'*' may only end a term"),
    ("(ketamine OR esketamine)[tiab]", 24, "cannot follow ')'"),
    ("ketamine[tiab:noexp]", 8, "':noexp' only applies to MeSH"),
    ("ketamine depression[tiab:~3]", 19, "needs a quoted phrase"),
    ('"ketamine depression"[mh:~3]', 21, "proximity only works with"),
    ("2020/13/01:2020/12/31[crdt]", 0, "bad date"),
    ("2020/01:2020/01:2021[dp]", 0, "more than one ':'"),
    ("2021:2020[dp]", 0, "ends before it starts"),
    ("ketamine 2020[dp]", 0, "takes one date"),
    ("ketamine[pmid]", 0, "[pmid] needs a number"),
])
def test_syntax_errors_name_position_and_reason(q, position, reason):
    with pytest.raises(QuerySyntaxError) as info:
        validate(q)
    assert info.value.position == position
    assert reason in info.value.reason
    assert f"position {position}" in str(info.value) and repr(q) in str(info.value)


def test_boolean_operators_apply_left_to_right_and_juxtaposition_means_and():
    a, b, c = (Term(w) for w in "abc")
    assert parse_query("a OR b AND c") == BoolOp("AND", BoolOp("OR", a, b), c)
    assert parse_query("a OR (b AND c)") == BoolOp("OR", a, BoolOp("AND", b, c))
    assert parse_query("a NOT b OR c") == BoolOp("OR", BoolOp("NOT", a, b), c)
    assert parse_query("a b") == BoolOp("AND", a, b)
    # lower-case operators are ordinary words, as in PubMed
    assert parse_query("a or b") == BoolOp("AND", BoolOp("AND", a, Term("or")), b)


def test_tags_aliases_and_flags():
    assert parse_query('"major depression"[Title/Abstract]') == Term("major depression", "tiab", phrase=True)
    assert parse_query("depression[MeSH Terms:noexp]") == Term("depression", "mh", noexp=True)
    assert parse_query('"ketamine depression"[tiab:~3]') == Term("ketamine depression", "tiab",
                                                                   phrase=True, proximity=3)
    # a text tag after several unquoted words applies to each; other tags take them as one
    assert parse_query("ketamine infusion[ti]") == BoolOp("AND", Term("ketamine", "ti"),
                                                          Term("infusion", "ti"))
    assert parse_query("randomized controlled trial[pt]") == Term("randomized controlled trial", "pt")


@pytest.mark.parametrize("q, expected", [
    ("2020:2021[dp]", DateRange("dp", date(2020, 1, 1), date(2021, 12, 31))),
    ("2020/02[pdat]", DateRange("dp", date(2020, 2, 1), date(2020, 2, 29))),
    ("2020/01/01:2020/12/31[crdt]", DateRange("crdt", date(2020, 1, 1), date(2020, 12, 31))),
    ("2021/06/07[Entrez Date]", DateRange("edat", date(2021, 6, 7), date(2021, 6, 7))),
    ("2019/12:2020/02[mdat]", DateRange("mdat", date(2019, 12, 1), date(2020, 2, 29))),
])
def test_date_ranges(q, expected):
    assert parse_query(q) == expected


def test_printed_query_parses_back_to_the_same_tree():
    q = ('(ketamine[mh] OR "esketamine"[tiab] OR ketamin*) AND depress* NOT '
         '2020/01/01:2020/12/31[crdt] AND english[la]')
    tree = parse_query(q)
    assert parse_query(str(tree)) == tree


# ---------------------------------------------------------------- matching real records

@pytest.fixture(scope="module")
def krystal(twin_corpus):
    """PMID 38011560, a real 2023 review: MeSH Ketamine (major; pharmacology, therapeutic use),
    Depression (drug therapy); title 'Ketamine and the neurobiology of depression: Toward
    next-generation rapid-acting antidepressant treatments.'"""
    return twin_corpus.records[38011560].record


def test_ketamine_finds_the_records_pubmed_finds():
    # the data's README: 42 of the 57 records whose XML mentions ketamine do so in title,
    # abstract or MeSH (what PubMed searches); the rest only in references or as "norketamine"
    records = [prepare(e) for e in iter_pubmed(FIXTURES / "ketamine_subset.xml.gz")]
    hits = [r for r in records if matches("ketamine", r)]
    assert len(records) == 57 and len(hits) == 42
    assert any(matches("norketamine", r) for r in records if r not in hits)


@pytest.mark.parametrize("q, expected", [
    ("ketamine", True), ("KETAMINE[ti]", True), ("ketamin*[tiab]", True), ("ketam[tiab]", False),
    ('"rapid-acting antidepressant"[ti]', True), ('"antidepressant rapid acting"[ti]', False),
    ('"ketamine depression"[ti:~4]', True), ('"ketamine depression"[ti:~3]', False),
    ("neuroplasticity[ti]", False), ("neuroplasticity", True), ("neuroplasticity[tw]", True),
    ("ketamine[majr]", True), ("depression[majr]", False), ("depression[mh]", True),
    ("depression/drug therapy[mh]", True), ("depression/surgery[mh]", False),
    ('"antidepressive agents/therapeutic use"[mh]', True), ('"drug therapy"[sh]', True),
    ("antidepress*[mh]", True), ("depression/drug ther*[mh]", True), ("ketamine/adverse*[mh]", False),
    ("surgery[sh]", False), ("review[pt]", True), ('"randomized controlled trial"[pt]', False),
    ("english[la]", True), ("eng[la]", True), ("french[la]", False),
    ("krystal jh[au]", True), ("krystal j[au]", True), ("krystals[au]", False),
    ("2023/11/27[crdt]", True), ("2023/11/28:2023/12/31[crdt]", False),
    ("2023/12/11[mdat]", True), ("2023/12/10[mdat]", False), ("2023[dp]", True),
    ("2022[dp]", False), ("38011560[pmid]", True),
    ("ketamine NOT depression[mh]", False), ("ketamine NOT surgery[sh]", True),
    ("(placebo OR neurobiology[ti]) AND 2023[dp]", True),
])
def test_matching_a_real_record(krystal, q, expected):
    assert matches(q, krystal) is expected
    assert matches(parse_query(q), prepare(krystal)) is expected


def test_mesh_explosion_reaches_comma_children_unless_noexp(twin_corpus):
    only_child = [r for r in twin_corpus.records.values()
                  if any(m["descriptor"].startswith("Anesthesia, ") for m in r.record["mesh"])
                  and not any(m["descriptor"] == "Anesthesia" for m in r.record["mesh"])]
    assert only_child
    for r in only_child:
        assert matches("anesthesia[mh]", r.prepared)
        assert not matches("anesthesia[mh:noexp]", r.prepared)
        assert not matches("anesth[mh]", r.prepared)


def test_accents_fold_and_words_do_not_match_inside_longer_words(twin_corpus):
    sjogren = twin_corpus.records[33385368]  # a real title naming Sjögren Syndrome
    assert "Sjögren" in sjogren.record["title"]
    for q in ("sjogren[ti]", "SJÖGREN[ti]", '"sjogren syndrome"[ti]', "sjog*[ti]"):
        assert matches(q, sjogren.prepared), q
    assert not matches("sjogre[ti]", sjogren.prepared)
