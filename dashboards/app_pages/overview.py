"""Claims overview: every claim, its verdict and a compact bar of the human studies behind it."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, common

SORTS = {"certainty": "Certainty", "evidence": "Amount of evidence", "claim": "Claim id"}

LINK_LABEL = "Evidence and studies"

st.title("Claims overview")
store_state = common.require_data()

claims = common.fetch("summaries")
bars = common.fetch("overview_bars")
common.evidence_coverage(claims, {**store_state.get("meta", {}), "articles": store_state["articles"]})

kinds = sorted(claims["kind"].dropna().unique())
conditions = sorted({c for cs in claims["conditions"] for c in cs})

left, middle, right = st.columns([2, 3, 2])
chosen_kinds = left.multiselect("Kind", kinds, default=common.url_values("kind", kinds),
                                key="overview_kind", placeholder="all kinds")
chosen_conditions = middle.multiselect("Condition", conditions,
                                       default=common.url_values("condition", conditions),
                                       key="overview_condition", placeholder="all conditions")
sort = right.selectbox("Sort by", list(SORTS), format_func=SORTS.get, key="overview_sort",
                       help="Certainty sorts ties by the number of human studies; amount of "
                            "evidence counts human studies, then all records.",
                       index=list(SORTS).index(common.url_value("sort", SORTS, "certainty")))
common.set_url("kind", chosen_kinds)
common.set_url("condition", chosen_conditions)
common.set_url("sort", sort, default="certainty")

shown = claims
if chosen_kinds:
    shown = shown[shown["kind"].isin(chosen_kinds)]
if chosen_conditions:
    wanted = set(chosen_conditions)
    shown = shown[shown["conditions"].map(lambda cs: bool(wanted.intersection(cs)))]
order = {"certainty": (["certainty_score", "n_human", "n_records", "claim_id"], [False, False, False, True]),
         "evidence": (["n_human", "n_records", "claim_id"], [False, False, True]),
         "claim": (["claim_id"], [True])}[sort]
shown = shown.sort_values(order[0], ascending=order[1])

st.caption(f"{common.plural(len(shown), 'claim')} of {len(claims)}. Each bar counts the human "
           "studies that support the claim (green), found no effect (grey) or contradict it (red), "
           "split by study design, best design first; hover a segment for its design. Certainty is "
           "an automated GRADE-style estimate, not a formal assessment.")

if shown.empty:
    st.info("No claim matches these filters.")

segments: dict[str, list] = {}
for cid, direction, design, n in bars[["claim_id", "direction", "design_label", "n"]].itertuples(index=False):
    segments.setdefault(cid, []).append((direction, design, int(n)))
for row in shown.itertuples():
    with st.container(border=True):
        text, verdict, bar = st.columns([5, 3, 3])
        text.markdown(f"**{row.statement}**")
        tags = " · ".join([row.kind, *row.conditions])
        text.caption(f"`{row.claim_id}` · {tags}")
        text.page_link("app_pages/claim.py", label=LINK_LABEL, icon=":material/arrow_forward:",
                       query_params={"claim": row.claim_id})
        verdict.markdown(charts.stance_badge(row.stance), help=row.verdict)
        certainty = row.certainty if isinstance(row.certainty, str) else "not rated"
        level = ("none" if pd.isna(row.best_supporting_level)
                 else f"level {int(row.best_supporting_level)}: {row.best_supporting_level_label}")
        verdict.caption(f"certainty: **{certainty}** · best supporting evidence: {level}")
        bar.markdown(charts.evidence_bar(segments.get(row.claim_id, [])),
                     unsafe_allow_html=True)
