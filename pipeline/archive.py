"""Raw archive: every E-utilities response body, gzipped, content-addressed and immutable.

Layout under ``data/raw/``::

    objects/ab/abcdef…sha256.xml.gz   one body per sha256 (written once, never rewritten)
    manifest.jsonl                     one line per response received, in arrival order
    watermarks.jsonl                   one line each time a query's window completed
    snapshot/*.xml.gz                  the bundled offline snapshot (real records, committed;
                                       read from the repo whatever the data dir)

The manifest is the source of truth for ``python -m pipeline rebuild``: replaying it rebuilds the
curated store with no network. Lines are appended with fsync; a torn last line (a run killed
mid-write) is ignored on read, and its body is simply fetched again by the next run.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from isal import igzip

# Parameters never written to the archive: a manifest is meant to be shareable.
_SECRET_PARAMS = {"api_key"}


@dataclass(frozen=True)
class Entry:
    seq: int
    sha256: str
    path: str
    endpoint: str
    query_id: str | None
    window_type: str | None
    window_from: str | None
    window_to: str | None
    params: dict
    fetched_at: str
    bytes: int
    run_id: str | None


class RawArchive:
    def __init__(self, raw_dir: str | os.PathLike):
        self.root = Path(raw_dir)
        self.objects = self.root / "objects"
        self.manifest = self.root / "manifest.jsonl"
        self.watermark_log = self.root / "watermarks.jsonl"
        self._seq = None
        self._lock = threading.Lock()

    def _next_seq(self) -> int:
        if self._seq is None:
            self._seq = max((e.seq for e in self.entries()), default=0)
        self._seq += 1
        return self._seq

    def object_path(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / f"{sha256}.xml.gz"

    def put(self, body: bytes, *, endpoint: str, params: dict, run_id: str | None = None,
            query_id: str | None = None, window: tuple | None = None) -> Entry:
        sha = hashlib.sha256(body).hexdigest()
        path = self.object_path(sha)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                # ISA-L's deflate at level 1: a quarter of zlib level 1's CPU on PubMed XML, a
                # slightly smaller file, and plain gzip that the stdlib reads back. mtime=0 keeps
                # the bytes a pure function of the body.
                fh.write(igzip.compress(body, 1, mtime=0))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        wtype, wfrom, wto = (window or (None, None, None))
        with self._lock:  # a refresh's search and fetch threads archive side by side
            entry = Entry(seq=self._next_seq(), sha256=sha, path=str(path.relative_to(self.root)),
                          endpoint=endpoint, query_id=query_id, window_type=wtype,
                          window_from=_iso(wfrom), window_to=_iso(wto),
                          params={k: _jsonable(v) for k, v in params.items() if k not in _SECRET_PARAMS},
                          fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                          bytes=len(body), run_id=run_id)
            _append_line(self.manifest, entry.__dict__)
        return entry

    def read(self, entry_or_sha) -> bytes:
        sha = entry_or_sha if isinstance(entry_or_sha, str) else entry_or_sha.sha256
        with gzip.open(self.object_path(sha), "rb") as fh:
            return fh.read()

    def entries(self) -> Iterator[Entry]:
        for row in _read_lines(self.manifest):
            yield Entry(**row)

    def log_watermark(self, query_id: str, window_type: str, through, run_id: str) -> None:
        _append_line(self.watermark_log, {"query_id": query_id, "window_type": window_type,
                                          "through": _iso(through), "run_id": run_id})

    def watermarks(self) -> Iterator[dict]:
        yield from _read_lines(self.watermark_log)


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _jsonable(value):
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return _iso(value)


def _append_line(path: Path, row: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(row, sort_keys=True, separators=(",", ":")) + "\n").encode()
    with open(path, "ab+") as fh:
        if fh.seek(0, os.SEEK_END) > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                line = b"\n" + line  # end a line torn by a killed run, so this one stays whole
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def _read_lines(path: Path) -> Iterator[dict]:
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                return  # torn write from a killed run
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue
