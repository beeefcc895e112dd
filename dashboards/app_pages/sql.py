"""SQL for analysts: read-only queries against the published store, with limits."""
from __future__ import annotations

import time

import streamlit as st

from dashboards import common
from pipeline import readonly

EXAMPLE = ("SELECT claim_id, stance, certainty, n_human, n_human_supports, n_human_contradicts\n"
           "FROM v_claim_summary\nORDER BY n_human DESC")
MAX_ROWS = 100_000
MAX_SECONDS = 60

st.title("SQL")
st.caption("Query the published store read-only: writes, file access and extensions are refused. "
           "The views below are the documented interface (docs/data-dictionary.md); the tables "
           "under them are there too but may change between versions.")
common.require_data()

with st.expander("Documented views", expanded=False):
    for view in readonly.describe_views():
        st.markdown(f"**`{view.name}`** — {view.description}")
        st.caption(", ".join(f"`{c.name}` {c.type}" for c in view.columns))

sql = st.text_area("Query", value=st.query_params.get("sql", EXAMPLE), height=160, key="sql_text")
c = st.columns([1, 1, 4])
limit = c[0].number_input("Row limit", min_value=1, max_value=MAX_ROWS,
                          value=min(max(common.url_int("limit", 1000), 1), MAX_ROWS), step=100,
                          key="sql_limit")
timeout = c[1].number_input("Time limit (s)", min_value=1, max_value=MAX_SECONDS,
                            value=min(max(common.url_int("timeout", 10), 1), MAX_SECONDS),
                            key="sql_timeout")
common.set_url("sql", sql.strip(), default=EXAMPLE)
common.set_url("limit", int(limit), default=1000)
common.set_url("timeout", int(timeout), default=10)

# A shared link runs its query on opening; after that a query runs when asked to.
shared = st.session_state.setdefault("sql_shared", st.query_params.get("sql"))
if not st.button("Run", type="primary", key="sql_run") and sql.strip() != shared:
    st.stop()

started = time.perf_counter()
try:
    # one row past the limit tells a result that stopped at the limit from one that fits it
    result = readonly.run_sql(common.store_path(), sql, limit=int(limit) + 1, timeout_s=float(timeout))
except readonly.ReadOnlyError as exc:
    st.error(str(exc)[:1].upper() + str(exc)[1:])
    st.stop()
elapsed = time.perf_counter() - started
stopped = len(result) > int(limit)
result = result.head(int(limit))

st.caption(f"{common.plural(len(result), 'row')} in {elapsed:.2f} s"
           + (f", stopped at the limit of {int(limit):,}" if stopped else ""))
st.dataframe(result, hide_index=True, width="stretch")
st.download_button("Download CSV", data=result.to_csv(index=False).encode("utf-8"),
                   file_name="query.csv", mime="text/csv", on_click="ignore",
                   icon=":material/download:", key="sql_download")
