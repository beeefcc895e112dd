"""What each CLI command does. Kept apart from ``cli.py`` so the parser stays cheap to import
(``--help`` should not load DuckDB, scikit-learn or lxml)."""
from __future__ import annotations

import sys
import time
from datetime import datetime, timezone

from .config import Config


class UserError(Exception):
    """An error the user can act on: printed as one line, exit status 1, no traceback."""


def _log(msg: str) -> None:
    print(msg, flush=True)


def _registry():
    from . import claims
    try:
        return claims.load_registry()
    except claims.RegistryError as exc:
        raise UserError(f"claims registry: {exc}") from None


def _queries():
    from . import claims
    return claims.queries()


def _finalize(registry):
    def finalize(con):
        from . import evidence
        from .store import sync_claims
        from .tag_store import tag_store
        sync_claims(con, registry)
        counts = tag_store(con, registry, progress=_log)
        links = evidence.refresh(con)
        _log(f"tagged {counts['tagged']} records, {counts['directions']} claim links; "
             f"{links} evidence links")
    return finalize


def _summary(result) -> None:
    _log(f"run {result.run_id}: {result.status}; fetched {result.fetched}, loaded {result.loaded}, "
         f"deleted {result.deleted}, quarantined {result.quarantined}, "
         f"{result.requests} HTTP requests" + (f"; error: {result.error}" if result.error else ""))


def pubmed_reachable(cfg: Config) -> tuple[bool, str]:
    """One quick ESearch, no retries: enough to tell online from offline."""
    import requests
    try:
        resp = requests.get(cfg.eutils_base_url.rstrip("/") + "/esearch.fcgi",
                            params={"db": "pubmed", "term": "ketamine", "retmax": 0,
                                    "tool": cfg.tool, "email": cfg.email},
                            timeout=min(cfg.timeout, 8))
        if resp.status_code == 200 and b"<eSearchResult" in resp.content:
            return True, "PubMed answered"
        return False, f"HTTP {resp.status_code} from {cfg.eutils_base_url}"
    except requests.RequestException as exc:
        return False, f"{type(exc).__name__} reaching {cfg.eutils_base_url}"


def cmd_run(cfg: Config, args) -> int:
    registry = _registry()
    if not args.offline:
        ok, why = pubmed_reachable(cfg)
        if ok:
            _log(f"{why}: pulling live from {cfg.eutils_base_url}")
            return _do_refresh(cfg, registry)
        _log(f"PubMed is not reachable ({why}).")
    from .config import BUNDLED_SNAPSHOT
    _log("OFFLINE: building the store from the bundled snapshot of real PubMed records in "
         f"{BUNDLED_SNAPSHOT} — a small, dated sample; the dashboard says where "
         "evidence is thin or absent.")
    return cmd_build_snapshot(cfg, args)


def _do_refresh(cfg: Config, registry, today=None) -> int:
    from . import fetch
    from .eutils import EutilsError
    from .runs import RunInProgress
    try:
        result = fetch.refresh(cfg, _queries(), today=today, progress=_log,
                               finalize=_finalize(registry))
    except RunInProgress as exc:
        raise UserError(str(exc)) from None
    except EutilsError as exc:
        raise UserError(f"refresh failed: {exc}") from None
    _summary(result)
    return 0 if result.status == "ok" else 1


def cmd_refresh(cfg: Config, args) -> int:
    return _do_refresh(cfg, _registry(), today=args.today)


def cmd_schedule(cfg: Config, args) -> int:
    from croniter import croniter
    expr = args.cron or cfg.schedule
    if not croniter.is_valid(expr):
        raise UserError(f"not a valid cron expression: {expr!r}")
    registry = _registry()
    while True:
        nxt = croniter(expr, datetime.now(timezone.utc)).get_next(datetime)
        _log(f"next refresh at {nxt.isoformat()} (cron {expr!r})")
        time.sleep(max(0.0, (nxt - datetime.now(timezone.utc)).total_seconds()))
        try:
            _do_refresh(cfg, registry)
        except UserError as exc:  # a failed or overlapping run must not stop the schedule
            _log(f"error: {exc}")
        if args.once:
            return 0


def cmd_rebuild(cfg: Config, args) -> int:
    from .rebuild import rebuild
    registry = _registry()
    try:
        result = rebuild(cfg, _queries(), progress=_log, finalize=_finalize(registry))
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    _summary(result)
    return 0


def cmd_build_snapshot(cfg: Config, args) -> int:
    from .rebuild import build_snapshot
    registry = _registry()
    result = build_snapshot(cfg, _queries(), progress=_log, finalize=_finalize(registry))
    _summary(result)
    _log(f"store: {cfg.store}  (readers use {cfg.snapshot})")
    return 0


def cmd_retag(cfg: Config, args) -> int:
    from .runs import recorded_run
    registry = _registry()
    with recorded_run(cfg, "retag") as (con, _result):
        _finalize(registry)(con)
    return 0


def cmd_tag(cfg: Config, args) -> int:
    from .tag import jsonl
    if not args.input.is_file():
        raise UserError(f"no such input file: {args.input}")
    ok, bad = jsonl.run(args.input, args.output, errors=sys.stderr)
    _log(f"tagged {ok} records; {bad} bad lines reported above")
    return 0 if ok or not bad else 1


def cmd_check(cfg: Config, args) -> int:
    from . import check
    try:
        results = check.check_file(args.file, evidence=_evidence_lookup(cfg))
    except check.CheckInputError as exc:
        raise UserError(str(exc)) from None
    print(check.format_report(results, title=str(args.file)))
    return 0


def _evidence_lookup(cfg: Config):
    """Claim id → evidence summary from the published store, or None when there is no store."""
    if not cfg.snapshot.exists():
        return None
    from . import readonly
    return readonly.evidence_lookup(cfg.snapshot)


def _reader_path(cfg: Config):
    if not cfg.snapshot.exists():
        raise UserError(f"no published store at {cfg.snapshot}: run `python -m pipeline run` first")
    return cfg.snapshot


def cmd_sql(cfg: Config, args) -> int:
    from . import readonly
    try:
        df = readonly.run_sql(_reader_path(cfg), args.statement, limit=args.limit)
    except readonly.ReadOnlyError as exc:
        raise UserError(str(exc)) from None
    if args.output:
        suffix = args.output.suffix.lower()
        if suffix == ".parquet":
            df.to_parquet(args.output, index=False)
        elif suffix == ".csv":
            df.to_csv(args.output, index=False)
        else:
            raise UserError(f"--output must end in .csv or .parquet, not {suffix or 'nothing'}")
        _log(f"wrote {len(df)} rows to {args.output}")
    else:
        import pandas as pd
        with pd.option_context("display.max_rows", 200, "display.max_columns", 50,
                               "display.width", 200, "display.max_colwidth", 80):
            print(df.to_string(index=False) if len(df) else "(no rows)")
    return 0


def cmd_export(cfg: Config, args) -> int:
    from . import readonly
    paths = readonly.export_views(_reader_path(cfg), args.format, args.dir)
    for p in paths:
        _log(f"wrote {p}")
    return 0


def cmd_status(cfg: Config, args) -> int:
    from . import readonly
    path = _reader_path(cfg)
    for title, sql in (
            ("last runs", "SELECT run_id, status, started_at, ended_at, records_fetched, "
                          "records_loaded, records_quarantined, requests_made, error "
                          "FROM pipeline_runs ORDER BY started_at DESC LIMIT 10"),
            ("store", "SELECT key, value FROM store_meta ORDER BY key"),
            ("records per query", "SELECT query_id, count(*) AS records FROM query_articles "
                                  "GROUP BY 1 ORDER BY 2 DESC, 1"),
            ("quarantine", "SELECT stage, pmid, reason FROM quarantine LIMIT 20")):
        print(f"== {title}")
        df = readonly.run_sql(path, sql)
        print(df.to_string(index=False) if len(df) else "(none)")
    return 0


def cmd_claims(cfg: Config, args) -> int:
    registry = _registry()
    for c in registry:
        print(f"{c.id:<40} {c.kind:<10} {c.statement}")
    _log(f"{len(registry)} claims, registry valid")
    return 0


def cmd_config(cfg: Config, args) -> int:
    from .config import SETTINGS
    for var, attr, _default, help_ in SETTINGS:
        value = getattr(cfg, attr)
        if var == "NCBI_API_KEY" and value:
            value = value[:4] + "…"
        print(f"{var}={value}    # {help_}")
    print(f"# store: {cfg.store}\n# reader snapshot: {cfg.snapshot}\n# raw archive: {cfg.raw_dir}")
    return 0
