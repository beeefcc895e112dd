"""Explorer: search every record's title and abstract, narrowed by condition, design and year."""
from __future__ import annotations

import streamlit as st

from dashboards import charts, common, data

st.title("Explorer")
state = common.require_data()

conditions, designs = state["conditions"], state["designs"]
design_keys = designs["design"].tolist() + ["untagged"]
design_labels = dict(zip(designs["design"], designs["design_label"])) | {"untagged": "not tagged"}

text = st.text_input("Search titles and abstracts", value=st.query_params.get("q", ""),
                     key="explorer_q", placeholder='e.g. esketamine "nasal spray" suicidal',
                     help='Every word must appear; put a phrase in "double quotes". '
                          "Case does not matter; a word also matches inside longer words.")
left, middle, right = st.columns([3, 3, 2])
chosen_conditions = left.multiselect("Condition", conditions,
                                     default=common.url_values("condition", conditions),
                                     key="explorer_condition", placeholder="any condition",
                                     help="The most specific registry conditions a record is "
                                          "about; records no claim links have none.")
chosen_designs = middle.multiselect("Design", design_keys, format_func=design_labels.get,
                                    default=common.url_values("design", design_keys),
                                    key="explorer_design", placeholder="any design")
with right:
    y = st.columns(2)
    year_from = y[0].number_input("From year", min_value=1800, max_value=2100, step=1,
                                  value=common.url_int("from"), key="explorer_from")
    year_to = y[1].number_input("To year", min_value=1800, max_value=2100, step=1,
                                value=common.url_int("to"), key="explorer_to")
common.set_url("q", text.strip(), default="")
common.set_url("condition", chosen_conditions)
common.set_url("design", chosen_designs)
common.set_url("from", year_from)
common.set_url("to", year_to)

query = data.Search(text=text, conditions=tuple(chosen_conditions), designs=tuple(chosen_designs),
                    year_from=year_from, year_to=year_to)
found = common.fetch("search", query=query)
results = found["results"]
total = int(found["total"]["n"][0])

st.markdown(f"**{common.plural(total, 'record')}** match"
            + ("es" if total == 1 else "")
            + (f"; the best {len(results):,} are listed" if total > len(results) else ""))

main, side = st.columns([3, 1])
with main:
    if results.empty:
        st.info("Nothing matches. Drop a word or a filter.")
    else:
        st.dataframe(
            results.assign(retracted=results["is_retracted"].map({True: "RETRACTED", False: ""}))[
                ["pubmed_url", "title", "year", "journal", "design", "population", "retracted"]],
            hide_index=True, width="stretch", height=560,
            column_config={
                "pubmed_url": st.column_config.LinkColumn(
                    "PubMed", display_text=r"pubmed\.ncbi\.nlm\.nih\.gov/(\d+)/"),
                "title": st.column_config.TextColumn("Title", width="large"),
                "year": st.column_config.NumberColumn("Year", format="%d", width="small"),
                "journal": "Journal", "design": "Design", "population": "Population",
                "retracted": st.column_config.TextColumn("Retraction", width="small"),
            })
with side:
    st.markdown("**By condition**")
    if found["condition"].empty:
        st.caption("no registry condition")
    else:
        st.dataframe(found["condition"], hide_index=True, width="stretch",
                     column_config={"condition": "Condition", "n": "Records"})
    st.markdown("**By design**")
    st.dataframe(found["design"][["design", "n"]], hide_index=True, width="stretch",
                 column_config={"design": "Design", "n": "Records"})
    st.markdown("**By year**")
    if found["year"].empty:
        st.caption("no dated record")
    else:
        st.altair_chart(charts.year_histogram(found["year"]), width="stretch")
