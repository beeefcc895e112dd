"""``python -m pipeline <command>``: the one entry point. Run with ``--help`` for examples."""
from __future__ import annotations

import argparse
import sys
import textwrap
from datetime import date
from pathlib import Path

from . import config as config_mod

EXAMPLES = """\
examples:
  python -m pipeline run                      # pull live if PubMed answers, else bundled snapshot
  python -m pipeline refresh                  # one incremental pull (needs network)
  python -m pipeline schedule --cron "0 3 * * *"
  python -m pipeline rebuild                  # recreate the store from data/raw/ alone
  python -m pipeline build-snapshot           # offline store from the bundled real records
  python -m pipeline check draft.txt          # which sentences make registered claims
  python -m pipeline tag --input in.jsonl --output out.jsonl
  python -m pipeline sql "SELECT claim_id, verdict FROM v_claim_summary"
  python -m pipeline export --format parquet out/
  python -m pipeline status
  EUTILS_BASE_URL=http://127.0.0.1:8080/ python -m pipeline refresh
"""

COMMANDS: dict[str, str] = {}


def _command(sub, name: str, help_: str, examples: str = ""):
    COMMANDS[name] = help_
    return sub.add_parser(name, help=help_, description=help_,
                          epilog=("examples:\n" + textwrap.indent(examples, "  ")) if examples else None,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Evidence-review pipeline for ketamine therapy claims.",
        epilog=EXAMPLES + "\nsettings (environment variables; flags override):\n" + config_mod.describe(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="overrides KETAMINE_DATA_DIR")
    parser.add_argument("--store", help="overrides KETAMINE_STORE")
    parser.add_argument("--base-url", help="overrides EUTILS_BASE_URL")
    sub = parser.add_subparsers(dest="command", metavar="command")

    p = _command(sub, "run", "Refresh live when PubMed answers; otherwise build the offline snapshot.",
                 "python -m pipeline run\npython -m pipeline run --offline")
    p.add_argument("--offline", action="store_true", help="skip the live attempt")
    p = _command(sub, "refresh", "One incremental pull of new and modified records for every query.",
                 "python -m pipeline refresh\npython -m pipeline refresh --today 2021-06-30")
    p.add_argument("--today", type=date.fromisoformat, help="end of the windows (default: today)")
    p = _command(sub, "schedule", "Run `refresh` on a cron expression, forever (or --once).",
                 'python -m pipeline schedule --cron "0 3 * * *"')
    p.add_argument("--cron", help="cron expression (default: KETAMINE_SCHEDULE)")
    p.add_argument("--once", action="store_true", help="wait for the next slot, run, exit")
    _command(sub, "rebuild", "Recreate the curated store from data/raw/ alone, with no network.",
             "python -m pipeline rebuild")
    _command(sub, "build-snapshot", "Build the store from the real records bundled in data/raw/snapshot/.",
             "python -m pipeline build-snapshot")
    _command(sub, "retag", "Tag records the tagger in force has not tagged yet (no re-fetch).",
             "python -m pipeline retag")
    p = _command(sub, "tag", "Tag JSONL records: design, population, sample size, direction.",
                 "python -m pipeline tag --input in.jsonl --output out.jsonl")
    p.add_argument("--input", required=True, type=Path,
                   help="JSONL, one record per line: id, title, abstract; optionally pmid, publication_types, "
                        "mesh, indexing_method, and claim: one sentence about any intervention, e.g. "
                        "\"Ketamine lowers depressive symptoms compared with midazolam\"")
    p.add_argument("--output", required=True, type=Path)
    p = _command(sub, "check", "Check a draft: which sentences make registered claims, and their evidence.",
                 "python -m pipeline check draft.txt")
    p.add_argument("file", type=Path)
    p = _command(sub, "sql", "Run one read-only SQL statement on the published store.",
                 'python -m pipeline sql "SELECT * FROM v_claim_summary"\n'
                 'python -m pipeline sql "SELECT * FROM v_articles" --output articles.parquet')
    p.add_argument("statement")
    p.add_argument("--output", type=Path, help="write .csv or .parquet instead of printing")
    p.add_argument("--limit", type=int, default=None, help="at most this many rows")
    p = _command(sub, "export", "Write every documented view to DIR as Parquet or CSV.",
                 "python -m pipeline export --format parquet out/")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.add_argument("dir", type=Path)
    _command(sub, "status", "Show the last runs, records per query and quarantined records.",
             "python -m pipeline status")
    _command(sub, "claims", "Validate the claims registry and list its claims.",
             "python -m pipeline claims")
    _command(sub, "config", "Show the settings in force and where each comes from.",
             "python -m pipeline config")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    cfg = config_mod.load(data_dir=args.data_dir, store_path=args.store,
                          eutils_base_url=args.base_url)
    from . import commands
    try:
        return getattr(commands, "cmd_" + args.command.replace("-", "_"))(cfg, args) or 0
    except commands.UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
