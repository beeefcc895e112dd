"""What every page shares: where the store is, cached reads keyed on its version, the
"nothing to show yet" explanation and the freshness line."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import data
from pipeline import config

EMPTY_HELP = """\
**There is no evidence to show yet.** The dashboard reads the published store
`{path}`, and {why}.

Fill it from the repository root with one of:

- `python -m pipeline run` — pulls the records for every claim from PubMed, or builds the
  store from the bundled offline snapshot of real records when PubMed cannot be reached;
- `python -m pipeline build-snapshot` — the bundled offline snapshot only, no network.

The dashboard picks the new data up on its next page load; no restart is needed. Set
`KETAMINE_DATA_DIR` or `KETAMINE_STORE` if the store lives elsewhere.
"""


def store_path() -> Path:
    return config.load().snapshot


# The store version is an argument, so a refresh that publishes a new snapshot misses the
# cache and the next page run reads the new data; entries of old versions age out.
@st.cache_data(show_spinner=False, max_entries=512)
def _cached(name: str, path: str, stamp: tuple, kwargs: dict):
    return getattr(data, name)(Path(path), **kwargs)


def fetch(name: str, **kwargs):
    """``data.<name>(snapshot, **kwargs)``, cached until the snapshot changes."""
    path = store_path()
    return _cached(name, str(path), data.version(path), kwargs)


def state() -> dict:
    return fetch("store_state")


def freshness(meta: dict) -> str:
    as_of = meta.get("data_as_of") or "an unknown date"
    if meta.get("synthetic") == "true":
        return f"Synthetic benchmark store ({as_of}) — not real evidence"
    if meta.get("origin") == "snapshot":
        return f"Offline snapshot of {as_of}"
    return f"Data as of {as_of}"


def evidence_coverage(claims, meta: dict) -> None:
    """Say plainly, above any verdict, how thin the store's evidence is. The bundled offline
    snapshot is a handful of real records that mostly miss the articles' claims; a reader must
    not take its verdicts for what the literature says."""
    none = int((claims["n_human"].fillna(0) == 0).sum())
    thin = int(((claims["n_human"].fillna(0) > 0) & (claims["body_n"].fillna(0) <= 2)).sum())
    total = len(claims)
    counts = (f"{none} of {total} claims have no human study in this store, and {thin} more rest "
              f"on one or two studies with a clear direction.")
    if meta.get("origin") == "snapshot":
        st.warning(
            f"**Offline snapshot — evidence is thin or absent.** {counts} The store holds only "
            f"the {meta.get('articles', 'few')} real PubMed records bundled with the project "
            "(mostly 1977–79 anaesthesia and animal studies, a few 2020–23 papers), so these "
            "verdicts show how the product works, not what the literature says. Run "
            "`python -m pipeline refresh` with network access for the full evidence.",
            icon=":material/warning:")
    elif none or thin:
        st.info(counts, icon=":material/info:")


OUTDATED_HELP = """\
**The published store was written by an older version of the pipeline.** `{path}` lacks the
schema changes {names}, which this dashboard reads.

Bring it up to date from the repository root with `python -m pipeline retag` (no network
needed: it migrates the store, tags what is untagged and publishes it again) or
`python -m pipeline run`. The dashboard picks the new store up on its next page load."""


def require_data() -> dict:
    """The store's state, or stop the page with how to fill (or update) the store."""
    s = state()
    if s.get("outdated"):
        st.warning(OUTDATED_HELP.format(path=store_path(), names=", ".join(f"`{n}`" for n in s["outdated"])),
                   icon=":material/update:")
        st.stop()
    if not s["published"]:
        why = "it has not been published yet"
    elif not s["articles"] or not s["claims"]:
        why = "it holds {} records and {} claims".format(s["articles"], s["claims"])
    else:
        return s
    st.info(EMPTY_HELP.format(path=store_path(), why=why), icon=":material/inbox:")
    st.stop()


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


# --- shareable URLs ---------------------------------------------------------------------------
# Each page reads its state from the query string once, as the widgets' starting values, and
# writes the widgets' values back after every run: a copied URL reopens the same view.

def url_values(name: str, allowed) -> list[str]:
    allowed = set(allowed)
    return [v for v in st.query_params.get_all(name) if v in allowed]


def url_value(name: str, allowed, default=None):
    value = st.query_params.get(name)
    return value if value in set(allowed) else default


def url_int(name: str, default: int | None = None) -> int | None:
    try:
        return int(st.query_params.get(name))
    except (TypeError, ValueError):
        return default


def set_url(name: str, value, default=None) -> None:
    """Put a value in the query string, or take it out when it is the default."""
    if value is None or value == default or (isinstance(value, (list, tuple)) and not value):
        if name in st.query_params:
            del st.query_params[name]
    elif isinstance(value, (list, tuple)):
        st.query_params[name] = [str(v) for v in value]
    else:
        st.query_params[name] = str(value)
