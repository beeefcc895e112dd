"""SQL lives in ``sql/*.sql``; code asks for it by name so analysts can read the same text."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@lru_cache(maxsize=None)
def load(name: str) -> str:
    """``load("views/claim_summary")`` → the text of ``sql/views/claim_summary.sql``."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL named {name!r} (looked for {path})")
    return path.read_text(encoding="utf-8")


def names(folder: str) -> list[str]:
    """Names of the SQL files in a folder, in file-name order (migrations and views rely on it)."""
    return [f"{folder}/{p.stem}" for p in sorted((SQL_DIR / folder).glob("*.sql"))]
