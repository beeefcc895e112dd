"""Claim detail: the verdict, the evidence by design and year, and the studies themselves."""
from __future__ import annotations

import streamlit as st

from dashboards import charts, common, data, export

st.title("Claim detail")
state = common.require_data()

# --- which claim -----------------------------------------------------------------------------
listed = state["claim_list"]
ids = listed["claim_id"].tolist()
statements = dict(zip(listed["claim_id"], listed["statement"]))
asked = st.query_params.get("claim")
if asked is not None and asked not in statements:
    st.warning(f"There is no claim `{asked}` in the store; showing the first claim instead.")
claim_id = st.selectbox("Claim", ids, format_func=lambda cid: f"{statements[cid]}  ({cid})",
                        index=ids.index(asked) if asked in statements else 0, key="claim_select")
common.set_url("claim", claim_id)
head = st.container()  # filled once the claim is read, above the filters that shape the read

# --- filters ---------------------------------------------------------------------------------
designs = state["designs"]
design_keys = designs["design"].tolist() + ["untagged"]
design_labels = dict(zip(designs["design"], designs["design_label"])) | {"untagged": "not tagged"}
lo, hi = state["years"]
with st.container(border=True):
    f = st.columns([3, 2, 3, 3])
    chosen_designs = f[0].multiselect("Design", design_keys, format_func=design_labels.get,
                                      default=common.url_values("design", design_keys),
                                      key="claim_design", placeholder="all designs")
    chosen_pops = f[1].multiselect("Population", list(data.POPULATIONS),
                                   default=common.url_values("population", data.POPULATIONS),
                                   key="claim_population", placeholder="all")
    chosen_dirs = f[2].multiselect("Direction", list(data.DIRECTIONS),
                                   format_func=charts.direction_label,
                                   default=common.url_values("direction", data.DIRECTIONS),
                                   key="claim_direction", placeholder="all directions")
    if lo is not None and lo < hi:
        start = min(max(common.url_int("from", lo), lo), hi)
        end = max(min(common.url_int("to", hi), hi), start)
        year_from, year_to = f[3].slider("Publication years", lo, hi, (start, end), key="claim_years")
    else:
        year_from, year_to = lo, hi
common.set_url("design", chosen_designs)
common.set_url("population", chosen_pops)
common.set_url("direction", chosen_dirs)
common.set_url("from", year_from, default=lo)
common.set_url("to", year_to, default=hi)
flt = data.StudyFilter(designs=tuple(chosen_designs), populations=tuple(chosen_pops),
                       directions=tuple(chosen_dirs),
                       year_from=None if year_from == lo else year_from,
                       year_to=None if year_to == hi else year_to)

summaries = common.fetch("summaries")
claim = summaries[summaries["claim_id"] == claim_id].iloc[0].to_dict()
fetched = common.fetch("claim_evidence", claim_id=claim_id, flt=flt)

# --- the claim and its verdict ---------------------------------------------------------------
with head:
    st.subheader(claim["statement"])
    st.markdown(charts.stance_badge(claim["stance"]) + f" **{claim['verdict'][:1].upper()}"
                f"{claim['verdict'][1:]}.**")
    facts = [f"kind: {claim['kind']}"]
    if len(claim["conditions"]):
        facts.append("conditions: " + ", ".join(claim["conditions"]))
    if isinstance(claim["certainty"], str):
        facts.append(f"certainty: {claim['certainty']} ({claim['certainty_note']})")
    st.caption(" · ".join(facts))
    with st.expander("What the claim covers and how it was searched"):
        st.markdown(f"**Population:** {claim['population'] or 'not specified'}  \n"
                    f"**Outcome:** {claim['outcome'] or 'not specified'}  \n"
                    f"**Supporting direction:** {claim['supporting_direction'] or 'not specified'}")
        st.code(claim["query"], language=None, wrap_lines=True)
    m = st.columns(6)
    m[0].metric("Records", f"{int(claim['n_records']):,}", help="retracted records not counted")
    m[1].metric("Human", f"{int(claim['n_human']):,}")
    m[2].metric("Animal / in vitro", f"{int(claim['n_animal']) + int(claim['n_in_vitro']):,}")
    m[3].metric("Participants for", f"{int(claim['participants_supporting']):,}",
                help="in human primary studies that support the claim")
    m[4].metric("Participants against", f"{int(claim['participants_not_supporting']):,}",
                help="in human primary studies that found no effect or the opposite")
    m[5].metric("Retracted", f"{int(claim['n_retracted']):,}",
                help="listed below, flagged, never counted")

# --- charts ----------------------------------------------------------------------------------
cells = fetched["cells"]
by_design = cells.groupby(["design", "design_label", "design_rank", "direction"],
                          as_index=False)["n"].sum()
by_year = cells.dropna(subset=["pub_year"]).groupby(["pub_year", "direction"], as_index=False)["n"].sum()
left, right = st.columns(2)
with left:
    st.markdown("**Records by design and direction**")
    if by_design.empty:
        st.caption("No record matches the filters.")
    else:
        st.altair_chart(charts.design_direction(by_design), width="stretch")
with right:
    st.markdown("**Records by publication year**")
    if by_year.empty:
        st.caption("No dated record matches the filters.")
    else:
        st.altair_chart(charts.timeline(by_year), width="stretch")

# --- the studies -----------------------------------------------------------------------------
total = int(cells["n"].sum())
studies = fetched["studies"]
st.markdown(f"**Studies** — {common.plural(total, 'record')}, retracted ones included and flagged"
            + (f"; the first {len(studies):,} are listed, the downloads hold all"
               if total > len(studies) else ""))
table = studies.assign(direction=studies["direction"].map(charts.direction_label),
                       retracted=studies["is_retracted"].map({True: "RETRACTED", False: ""}))
st.dataframe(
    table[["pubmed_url", "title", "year", "journal", "design", "design_source", "design_confidence", "population",
           "n", "direction", "direction_confidence", "evidence_sentence", "retracted", "is_indirect"]],
    hide_index=True, width="stretch",
    column_config={
        "pubmed_url": st.column_config.LinkColumn(
            "PubMed", display_text=r"pubmed\.ncbi\.nlm\.nih\.gov/(\d+)/"),
        "title": st.column_config.TextColumn("Title", width="large"),
        "year": st.column_config.NumberColumn("Year", format="%d", width="small"),
        "journal": st.column_config.TextColumn("Journal", width="small"),
        "design": st.column_config.TextColumn("Design"),
        "design_source": st.column_config.TextColumn(
            "Design from", width="small",
            help="indexer: the record's publication types and MeSH (NLM's indexers, or the "
                 "publisher's types on a record not indexed yet); text: read from title and abstract "
                 "by the tagger, which is less reliable (docs/evaluation.md)"),
        "design_confidence": st.column_config.NumberColumn(
            "Design conf.", format="%.2f", width="small",
            help="how likely the design is right: of designs read from text at 0.8, about 8 in 10 "
                 "were right on held-out records (docs/evaluation.md)"),
        "population": st.column_config.TextColumn("Population", width="small"),
        "n": st.column_config.NumberColumn("N", help="sample size reported in the abstract",
                                           width="small"),
        "direction": st.column_config.TextColumn("Direction", width="small"),
        "direction_confidence": st.column_config.NumberColumn(
            "Direction conf.", format="%.2f", width="small",
            help="how likely the direction is right (0 when unclear); on held-out data, directions "
                 "at 0.6 and above were right somewhat more often than this says (docs/evaluation.md)"),
        "evidence_sentence": st.column_config.TextColumn("Evidence sentence", width="large"),
        "retracted": st.column_config.TextColumn("Retraction", width="small"),
        "is_indirect": st.column_config.CheckboxColumn(
            "Indirect", help="about a different condition than the claim names", width="small"),
    })

path = common.store_path()
d1, d2, _ = st.columns([1, 1, 4])
d1.download_button("Download CSV", data=lambda: export.studies_csv(path, claim_id, flt),
                   file_name=f"{claim_id}-studies.csv", mime="text/csv", on_click="ignore",
                   icon=":material/download:", key="download_csv")
d2.download_button("Download RIS", data=lambda: export.studies_ris(path, claim_id, flt),
                   file_name=f"{claim_id}-studies.ris", mime="application/x-research-info-systems",
                   on_click="ignore", icon=":material/download:", key="download_ris",
                   help="for Zotero, EndNote, Mendeley and other reference managers")
