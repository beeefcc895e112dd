"""The one place configuration is read: environment variables, overridable by CLI flags.

Every setting is listed in ``SETTINGS`` so that ``python -m pipeline config`` and the README
can show them all; nothing else in the package reads ``os.environ``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Real records shipped with the repo, for offline use; fixed, whatever KETAMINE_DATA_DIR says.
BUNDLED_SNAPSHOT = REPO_ROOT / "data" / "raw" / "snapshot"

NCBI_EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"

# (env var, attribute, default, help)
SETTINGS = [
    ("EUTILS_BASE_URL", "eutils_base_url", NCBI_EUTILS, "E-utilities base URL (a loopback twin in tests)"),
    ("NCBI_API_KEY", "api_key", "", "NCBI API key: raises the rate limit from 3 to 10 requests/s"),
    ("NCBI_EMAIL", "email", "", "contact e-mail sent with every request, as NCBI asks"),
    ("NCBI_TOOL", "tool", "ketamine-evidence", "tool name sent with every request"),
    ("KETAMINE_DATA_DIR", "data_dir", str(REPO_ROOT / "data"), "root of raw/ and curated/"),
    ("KETAMINE_STORE", "store_path", "", "DuckDB store the pipeline writes (default DATA_DIR/curated/store.duckdb)"),
    ("KETAMINE_HTTP_TIMEOUT", "http_timeout", "30", "socket timeout per request, seconds"),
    ("KETAMINE_GIVE_UP_AFTER", "give_up_after", "300", "seconds of retrying one request before the run fails"),
    ("KETAMINE_OVERLAP_DAYS", "overlap_days", "3", "days each incremental window reaches back before the watermark"),
    ("KETAMINE_SCHEDULE", "schedule", "0 3 * * *", "cron expression for `python -m pipeline schedule`"),
    ("KETAMINE_SHARED_DIR", "shared_dir", str(REPO_ROOT.parent / "shared"),
     "labelled data for `make train`, `make eval` and `make bench` only; the product never reads it"),
]


@dataclass(frozen=True)
class Config:
    eutils_base_url: str = NCBI_EUTILS
    api_key: str = ""
    email: str = ""
    tool: str = "ketamine-evidence"
    data_dir: str = str(REPO_ROOT / "data")
    store_path: str = ""
    http_timeout: str = "30"
    give_up_after: str = "300"
    overlap_days: str = "3"
    schedule: str = "0 3 * * *"
    shared_dir: str = str(REPO_ROOT.parent / "shared")

    @property
    def raw_dir(self) -> Path:
        return Path(self.data_dir) / "raw"

    @property
    def curated_dir(self) -> Path:
        return Path(self.data_dir) / "curated"

    @property
    def store(self) -> Path:
        return Path(self.store_path) if self.store_path else self.curated_dir / "store.duckdb"

    @property
    def snapshot(self) -> Path:
        """Read-only copy published for readers (dashboard, `sql`), swapped in atomically."""
        return self.store.with_name(self.store.stem + ".snapshot.duckdb")

    @property
    def timeout(self) -> float:
        return float(self.http_timeout)

    @property
    def give_up_seconds(self) -> float:
        return float(self.give_up_after)

    @property
    def rate_per_second(self) -> float:
        return 10.0 if self.api_key else 3.0

    def with_overrides(self, **kw) -> "Config":
        return replace(self, **{k: v for k, v in kw.items() if v is not None})


def load(env: dict | None = None, **overrides) -> Config:
    env = os.environ if env is None else env
    values = {attr: env.get(var, default) for var, attr, default, _ in SETTINGS}
    cfg = Config(**values)
    return cfg.with_overrides(**overrides)


def describe() -> str:
    width = max(len(v) for v, *_ in SETTINGS)
    return "\n".join(f"  {var:<{width}}  {help_} (default: {default or 'unset'})"
                     for var, _, default, help_ in SETTINGS)


__all__ = ["Config", "load", "describe", "SETTINGS", "REPO_ROOT", "NCBI_EUTILS", "BUNDLED_SNAPSHOT"]
