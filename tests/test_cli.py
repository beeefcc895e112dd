"""The one CLI: every command documented, --help with examples, errors without tracebacks,
and the offline path `make run` takes (the bundled snapshot, built and published)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb

from pipeline import cli

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args, env_extra=None, tmp=None):
    import os
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if tmp is not None:
        env["KETAMINE_DATA_DIR"] = str(tmp)
        env["EUTILS_BASE_URL"] = "http://127.0.0.1:9/entrez/eutils/"  # discard port: refused at once
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=600)


def test_every_command_is_documented_in_the_readme():
    cli.build_parser()
    readme = (REPO / "README.md").read_text()
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", readme, re.M))
    assert set(cli.COMMANDS) <= documented, set(cli.COMMANDS) - documented


def test_help_shows_examples_and_settings():
    out = run_cli("--help").stdout
    assert "examples:" in out and "python -m pipeline check draft.txt" in out
    for var in ("EUTILS_BASE_URL", "NCBI_API_KEY", "NCBI_EMAIL", "NCBI_TOOL", "KETAMINE_DATA_DIR",
                "KETAMINE_STORE"):
        assert var in out
    for name in cli.COMMANDS:
        sub = run_cli(name, "--help")
        assert sub.returncode == 0 and "examples:" in sub.stdout, name


def test_config_shows_settings_from_environment_and_flags(tmp_path):
    out = run_cli("--base-url", "http://127.0.0.1:1/x/", "config", tmp=tmp_path,
                  env_extra={"NCBI_API_KEY": "secret-key-123"}).stdout
    assert "EUTILS_BASE_URL=http://127.0.0.1:1/x/" in out       # the flag beats the variable
    assert f"KETAMINE_DATA_DIR={tmp_path}" in out
    assert "secret-key-123" not in out                            # never printed whole


def test_errors_are_one_line_without_traceback(tmp_path):
    for args in (("sql", "SELECT 1"), ("check", str(tmp_path / "missing.txt")),
                 ("tag", "--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o"))):
        res = run_cli(*args, tmp=tmp_path)
        assert res.returncode != 0, args
        assert "Traceback" not in res.stderr and res.stderr.strip(), (args, res.stderr)


def test_offline_run_builds_the_bundled_snapshot_and_says_so(tmp_path):
    res = run_cli("run", tmp=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "PubMed is not reachable" in res.stdout and "OFFLINE" in res.stdout
    snapshot = tmp_path / "curated" / "store.snapshot.duckdb"
    con = duckdb.connect(str(snapshot), read_only=True)
    meta = dict(con.execute("SELECT key, value FROM store_meta").fetchall())
    assert meta["origin"] == "snapshot" and meta["tagger_version"]
    n_articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert n_articles == 59  # 57 ketamine-subset records + 2 ketamine efetch samples
    assert con.execute("SELECT count(*) FROM tags").fetchone()[0] == n_articles
    claims = con.execute("SELECT count(*) FROM claims").fetchone()[0]
    assert claims >= 40
    run = con.execute("SELECT kind, status FROM pipeline_runs").fetchall()
    assert run == [("snapshot", "ok")]
    con.close()
    # the published store answers the read-only commands
    out = run_cli("status", tmp=tmp_path)
    assert out.returncode == 0 and "snapshot" in out.stdout
    q = run_cli("sql", "SELECT count(*) AS n FROM articles", tmp=tmp_path)
    assert q.returncode == 0 and str(n_articles) in q.stdout
    refused = run_cli("sql", "DELETE FROM articles", tmp=tmp_path)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    seed = REPO / "data" / "sources" / "000_3c2647acb6e21906.txt"
    checked = run_cli("check", str(seed), tmp=tmp_path)
    assert checked.returncode == 0 and "efficacy" in checked.stdout


def test_schedule_waits_for_the_next_cron_slot_then_refreshes(monkeypatch, tmp_path):
    from argparse import Namespace
    from datetime import datetime, timezone

    from pipeline import commands, config
    slept, refreshed = [], []
    monkeypatch.setattr(commands.time, "sleep", slept.append)
    monkeypatch.setattr(commands, "_do_refresh", lambda cfg, registry: refreshed.append(cfg) or 0)
    cfg = config.load(env={}, data_dir=str(tmp_path))
    assert commands.cmd_schedule(cfg, Namespace(cron="*/5 * * * *", once=True)) == 0
    assert refreshed == [cfg] and len(slept) == 1 and 0 <= slept[0] <= 300
    woke = datetime.now(timezone.utc).timestamp() + slept[0]
    assert min(woke % 300, 300 - woke % 300) < 2  # wakes on a 5-minute boundary


def test_schedule_refuses_a_bad_cron_expression(tmp_path):
    res = run_cli("schedule", "--cron", "every day", tmp=tmp_path)
    assert res.returncode == 1 and "not a valid cron expression" in res.stderr
