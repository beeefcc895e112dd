"""What the benchmarks share: where ../shared is, and a uniform way to print a figure."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path | None:
    """The workplace's shared data folder, when this checkout has one beside it."""
    from pipeline import config
    path = Path(config.load().shared_dir)
    return path if path.is_dir() else None


def verdict(value: float, target: float, *, higher_is_better: bool) -> str:
    ok = value >= target if higher_is_better else value <= target
    return "PASS" if ok else "FAIL"
