"""Shared pytest fixtures."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


# ---------------------------------------------------------------- determinism
# printed_under_hash_seeds(code): what `python -c code` prints under each of four string-hash
# seeds, as a set; one element means the output does not depend on set or dict order of strings.

@pytest.fixture
def printed_under_hash_seeds():
    def run(code: str) -> set[str]:
        return {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                               cwd=Path(__file__).resolve().parents[1],
                               env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in range(4)}
    return run
