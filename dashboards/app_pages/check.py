"""Check a draft: which sentences make claims about ketamine, and what the evidence says."""
from __future__ import annotations

import streamlit as st

from dashboards import charts, common
from pipeline import check

st.title("Check a draft")
st.caption("Paste an article or a paragraph. Each sentence that asserts something about ketamine "
           "is matched to the claims registry and shown with the evidence the store holds for it. "
           "Nothing you paste is stored.")

text = st.text_area("Draft", height=220, key="draft_text",
                    placeholder="Ketamine can rapidly relieve symptoms of depression …")
show_all = st.toggle("Show sentences that make no claim too", key="draft_show_all")
if not st.button("Check", type="primary", key="draft_check") and "draft_results" not in st.session_state:
    st.stop()

state = common.state()
summaries = {}
if state["published"] and state["claims"]:
    claims = common.fetch("summaries")
    summaries = {r["claim_id"]: r for r in claims.to_dict("records")}
elif state.get("outdated"):
    st.warning("The published store was written by an older version of the pipeline, so matches are "
               "shown without evidence. Run `python -m pipeline retag` to update it.")
else:
    st.warning("The store is empty, so matches are shown without evidence. "
               "Run `python -m pipeline run` to fill it.")

if st.session_state.get("draft_checked_text") != text:
    try:
        results = check.check_text(text, evidence=summaries.get)
    except check.CheckInputError as exc:
        st.error(str(exc))
        st.stop()
    st.session_state["draft_results"] = results
    st.session_state["draft_checked_text"] = text
results = st.session_state["draft_results"]

summary = check.summarize(results)
st.markdown(f"**{summary['sentences']} sentences**, {summary['claim_sentences']} look like claims: "
            f"{summary['matched']} matched to the registry, {summary['unregistered']} unregistered, "
            f"{summary['left_out']} deliberately left out of it.")

for r in results:
    if not r.is_claim and not show_all:
        continue
    with st.container(border=r.is_claim):
        where = f"paragraph {r.paragraph + 1}, sentence {r.sentence_in_paragraph + 1}"
        st.markdown(f"> {r.sentence}")
        if not r.is_claim:
            st.caption(f"{where} · no claim about ketamine")
            continue
        st.caption(where + (f" · {r.note}" if r.note else ""))
        for m in r.matches:
            ev = r.evidence.get(m.claim_id)
            cols = st.columns([4, 4])
            cols[0].markdown(f"**{ev['statement']}**" if ev else f"`{m.claim_id}`")
            cols[0].caption(f"`{m.claim_id}` · match confidence {m.confidence:.2f} · {m.reason}")
            if not ev:
                cols[1].caption("no evidence for this claim in the store")
                continue
            cols[0].page_link("app_pages/claim.py", label="Evidence and studies",
                              icon=":material/arrow_forward:", query_params={"claim": m.claim_id})
            certainty = ev["certainty"] if isinstance(ev["certainty"], str) else "not rated"
            cols[1].markdown(f"{charts.stance_badge(ev['stance'])} certainty **{certainty}**")
            cols[1].caption(f"{ev['verdict']} — {int(ev['n_human_supports'])} supporting, "
                            f"{int(ev['n_human_no_effect'])} no effect, "
                            f"{int(ev['n_human_contradicts'])} contradicting human studies")
