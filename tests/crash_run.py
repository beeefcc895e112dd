"""A refresh run in its own process, for the crash test to kill: ``python crash_run.py
BASE_URL DATA_DIR TODAY``. Small batches so that a kill lands between EFetch requests."""
import sys
from datetime import date

from pipeline import fetch
from pipeline.config import Config
from pipeline.eutils import EutilsClient

QUERIES = [("dp2021", "2021[dp]"),
           ("ketamine.all", "ketamine[tiab] OR ketamine[mh] OR esketamine[tiab]")]


def main(base_url: str, data_dir: str, today: str) -> None:
    config = Config(eutils_base_url=base_url, data_dir=data_dir, http_timeout="10")
    client = EutilsClient(config, rate_per_second=50, batch_size=60, backoff_initial=0.01)
    result = fetch.refresh(config, QUERIES, today=date.fromisoformat(today), client=client,
                           progress=None)
    sys.exit(0 if result.status == "ok" else 1)


if __name__ == "__main__":
    main(*sys.argv[1:4])
