"""Kill a refresh mid-way (SIGKILL, no clean-up), run it again, and compare with a run that
was never interrupted: no record lost, none doubled, same watermarks."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from test_refresh import CONTENT_TABLES, table_rows

HERE = Path(__file__).resolve().parent


def start_run(twin, data_dir):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent), str(HERE)]))
    return subprocess.Popen([sys.executable, str(HERE / "crash_run.py"), twin.base_url,
                             str(data_dir), twin.today.isoformat()], env=env)


@pytest.mark.parametrize("kill_after_efetch", [1, 6])
def test_killed_run_then_rerun_equals_uninterrupted_run(twin, tmp_path, kill_after_efetch):
    for _ in range(20):  # slow answers so the kill lands while the run is mid-way
        twin.inject("efetch", "slow", seconds=0.15)
    crashed = tmp_path / "crashed"
    proc = start_run(twin, crashed)
    deadline = time.monotonic() + 60
    while len(twin.requests_to("efetch")) < kill_after_efetch and time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("the run finished before it could be killed")
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    twin._faults.clear()

    rerun = start_run(twin, crashed)
    assert rerun.wait(timeout=120) == 0
    clean = tmp_path / "clean"
    assert start_run(twin, clean).wait(timeout=120) == 0

    store_name = Path("curated") / "store.duckdb"
    for table in CONTENT_TABLES:
        assert table_rows(crashed / store_name, table) == table_rows(clean / store_name, table), table
    # the killed run stays visibly unfinished; the rerun finished
    con = duckdb.connect(str(crashed / store_name), read_only=True)
    statuses = [r[0] for r in con.execute(
        "SELECT status FROM pipeline_runs ORDER BY started_at").fetchall()]
    con.close()
    assert statuses == ["running", "ok"]
