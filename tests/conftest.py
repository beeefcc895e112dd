"""Shared pytest fixtures."""
from __future__ import annotations

import pytest

from pipeline.config import Config
from twin import Corpus, EutilsTwin


# ---------------------------------------------------------------- E-utilities twin
# twin_corpus: the real records, parsed once per session (read-only).
# twin: a fresh loopback E-utilities server per test, shut down afterwards.
# twin_config: a Config aimed at that twin, with a temporary data dir.

@pytest.fixture(scope="session")
def twin_corpus() -> Corpus:
    return Corpus.load()


@pytest.fixture
def twin(twin_corpus):
    with EutilsTwin(twin_corpus) as server:
        yield server


@pytest.fixture
def twin_config(twin, tmp_path) -> Config:
    return Config(eutils_base_url=twin.base_url, email="pipeline-tests@example.org",
                  tool="ketamine-evidence-tests", data_dir=str(tmp_path / "data"),
                  http_timeout="5", give_up_after="10")
