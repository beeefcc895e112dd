"""Pipeline status: how fresh the data is, how the last runs went, what was set aside."""
from __future__ import annotations

import streamlit as st

from dashboards import common

st.title("Pipeline status")
state = common.state()
if not state["published"]:
    common.require_data()

meta = state["meta"]
st.markdown(f"### {common.freshness(meta)}")
facts = [f"{state['articles']:,} records", f"{state['claims']:,} claims",
         f"tagger version `{meta.get('tagger_version', 'none')}`",
         f"published {state['published_at']:%Y-%m-%d %H:%M} UTC to `{common.store_path()}`"]
st.caption(" · ".join(facts))

fetched = common.fetch("status")
evidence = fetched["evidence"].iloc[0]
if state["articles"] and evidence["is_current"]:
    st.caption(f"Evidence links computed {evidence['refreshed_at']}: {int(evidence['n_links']):,} "
               "claim–record links, current with the tables.")
elif state["articles"]:
    st.warning("The stored evidence links are older than the records, tags or rules they are "
               f"computed from (last computed {evidence['refreshed_at'] or 'never'}): verdicts may "
               "lag until the next run recomputes them.")

runs = fetched["runs"]
st.subheader("Last runs")
if runs.empty:
    st.caption("No run recorded.")
else:
    last = runs.iloc[0]
    if last["status"] == "failed":
        st.error(f"The last run ({last['run_id']}) failed: {last['error']}. The data shown is what "
                 "earlier runs and the part of this one that finished left behind.")
    elif last["status"] == "running":
        st.info(f"Run {last['run_id']} is still going (or was killed); this page shows the data "
                "published before it.")
    st.dataframe(runs, hide_index=True, width="stretch", column_config={
        "run_id": "Run", "kind": "Kind", "status": "Status", "started_at": "Started",
        "ended_at": "Ended", "error": "Error", "records_fetched": "Fetched", "records_loaded": "Loaded",
        "records_deleted": "Deleted", "records_quarantined": "Quarantined",
        "requests_made": "HTTP requests"})

st.subheader("Records per query")
per_query = fetched["per_query"]
if per_query.empty:
    st.caption("No query has been run.")
else:
    zero = per_query[per_query["records"] == 0]
    if len(zero):
        st.warning(f"{common.plural(len(zero), 'query', 'queries')} matched no record: "
                   + ", ".join(f"`{q}`" for q in zero["query_id"]))
    st.dataframe(per_query, hide_index=True, width="stretch", column_config={
        "query_id": "Query", "records": "Records", "is_claim": "Claim query"})

st.subheader("Quarantine")
counts = fetched["quarantine_counts"]
if counts.empty:
    st.caption("No record was quarantined.")
else:
    st.markdown(", ".join(f"{int(r.records):,} at the {r.stage} stage" for r in counts.itertuples()))
    st.dataframe(fetched["quarantine"], hide_index=True, width="stretch")

if not state["articles"] or not state["claims"]:
    common.require_data()
