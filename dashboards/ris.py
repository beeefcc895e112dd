"""RIS export of a study list, for reference managers (Zotero, EndNote, Mendeley).

RIS is line based: ``TAG  - value``, one record from ``TY`` to ``ER``. A value may not span
lines, so every field is folded onto one line here; the CRLF line ends are what the format's
original specification asks for and what every reader accepts.
"""
from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def _line(tag: str, value) -> str:
    text = " ".join(str(value).split())
    return f"{tag}  - {text}"


def _present(value) -> bool:
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return False
    return str(value).strip() != ""


def record(study: Mapping) -> list[str]:
    """The RIS lines of one study. Keys used: pmid, title, authors (list of "Last, First"),
    year, journal, journal_iso, doi, abstract, keywords and notes (lists of text)."""
    pmid = study["pmid"]
    lines = [_line("TY", "JOUR")]
    if _present(study.get("title")):
        lines.append(_line("TI", study["title"]))
    lines += [_line("AU", a) for a in study.get("authors") or () if _present(a)]
    if _present(study.get("year")):
        lines.append(_line("PY", int(study["year"])))
    if _present(study.get("journal")):
        lines.append(_line("JO", study["journal"]))
    if _present(study.get("journal_iso")):
        lines.append(_line("J2", study["journal_iso"]))
    if _present(study.get("doi")):
        lines.append(_line("DO", study["doi"]))
    if _present(study.get("abstract")):
        lines.append(_line("AB", study["abstract"]))
    lines += [_line("KW", k) for k in study.get("keywords") or () if _present(k)]
    lines += [_line("N1", n) for n in study.get("notes") or () if _present(n)]
    lines += [_line("AN", f"PMID:{int(pmid)}"), _line("DB", "PubMed"),
              _line("UR", PUBMED_URL.format(pmid=int(pmid))), "ER  - "]
    return lines


def to_ris(studies: Iterable[Mapping]) -> str:
    """The whole list as one RIS document (empty string for an empty list)."""
    return "".join("\r\n".join(record(s)) + "\r\n\r\n" for s in studies)
