"""The dashboard's entry point: `streamlit run dashboards/app.py` from the repository root."""
from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts only this folder on sys.path; the pages import the `dashboards` and
# `pipeline` packages from the repository root.
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import streamlit as st  # noqa: E402

from dashboards import common  # noqa: E402

st.set_page_config(page_title="Ketamine evidence", page_icon=":material/science:", layout="wide")

# The pages live in app_pages/, not pages/: Streamlit would serve a pages/ folder as pages of
# their own to a session that opens a page's URL before the entry point has run.
PAGES = [
    st.Page("app_pages/overview.py", title="Claims overview", icon=":material/fact_check:",
            url_path="overview", default=True),
    st.Page("app_pages/claim.py", title="Claim detail", icon=":material/article:", url_path="claim"),
    st.Page("app_pages/explorer.py", title="Explorer", icon=":material/search:", url_path="explorer"),
    st.Page("app_pages/check.py", title="Check a draft", icon=":material/edit_note:", url_path="check"),
    st.Page("app_pages/sql.py", title="SQL", icon=":material/database:", url_path="sql"),
    st.Page("app_pages/status.py", title="Pipeline status", icon=":material/monitor_heart:",
            url_path="status"),
]

page = st.navigation(PAGES)

state = common.state()
with st.sidebar:
    if state["published"]:
        st.caption(common.freshness(state["meta"]))
        st.caption(f"{state['articles']:,} records · {state['claims']:,} claims")
    elif state.get("outdated"):
        st.caption("The published store needs updating")
    else:
        st.caption("No published store yet")

page.run()
