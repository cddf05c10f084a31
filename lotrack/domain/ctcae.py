"""The CTCAE v4.03 dictionary: every term with its system organ class (SOC), MedDRA code and the
text of each grade it defines, and the one rule that a term allows only those grades.

lotrack ships a built-in subset (ctcae_v403_terms.json beside this file, which names where each
entry was read). A site loads NCI's whole spreadsheet with `flask lotrack ctcae load FILE`
(services/ctcae_load.py reads the file, `from_rows` here checks and converts it); the app then
uses that dictionary (`use`). An event keeps the term text and MedDRA code it was recorded with.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_, said

BUILTIN = Path(__file__).with_name("ctcae_v403_terms.json")
GRADES = ("1", "2", "3", "4", "5")
OTHER_SPECIFY = " - Other, specify"
MEDDRA = re.compile(r"^[0-9]{8}$")


class DictionaryError(ValueError):
    """A dictionary file cannot be used; the message names the file, the row and the reason."""


@dataclass(frozen=True)
class Dictionary:
    source: str
    retrieved: str
    coverage: str
    terms: dict[str, dict[str, Any]]  # term -> {term, meddra, soc, grades{"1": text}, definition}

    def socs(self) -> list[str]:
        return sorted({e["soc"] for e in self.terms.values()})

    def search(self, text: str = "", soc: str = "") -> list[dict[str, Any]]:
        """Terms whose name (or SOC) holds every word of `text`, within `soc` when given."""
        words = [w for w in text.casefold().split() if w]
        found = []
        for entry in self.terms.values():
            if soc and entry["soc"] != soc:
                continue
            hay = f"{entry['term']} {entry['soc']} {entry['meddra']}".casefold()
            if all(w in hay for w in words):
                found.append(entry)
        return sorted(found, key=lambda e: (e["soc"], e["term"]))


def is_other_specify(term: str) -> bool:
    """An "Other, specify" row: the investigator names the event in words beside it."""
    return term.endswith(OTHER_SPECIFY)


def _clean(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def _entry(where: str, raw: dict[str, Any]) -> dict[str, Any]:
    term, meddra, soc = (_clean(raw.get(k)) for k in ("term", "meddra", "soc"))
    if not term:
        raise DictionaryError(f"{where}: no term")
    if not MEDDRA.match(meddra):
        raise DictionaryError(f"{where}: {term!r} has MedDRA code {meddra!r}, not 8 digits")
    if not soc:
        raise DictionaryError(f"{where}: {term!r} names no system organ class")
    grades = raw.get("grades")
    if not isinstance(grades, dict):
        raise DictionaryError(f"{where}: {term!r} has no grades")
    # NCI's spreadsheet marks a grade the term does not define with "-".
    kept = {str(g): _clean(t) for g, t in grades.items() if _clean(t) not in ("", "-")}
    if not kept or not set(kept) <= set(GRADES):
        raise DictionaryError(f"{where}: {term!r} must define some of grades 1-5, not {kept}")
    entry = {"term": term, "meddra": meddra, "soc": soc, "grades": dict(sorted(kept.items()))}
    if _clean(raw.get("definition")):
        entry["definition"] = _clean(raw.get("definition"))
    return entry


def parse(data: Any, where: str) -> Dictionary:
    """A dictionary from its JSON form, every entry checked; DictionaryError otherwise."""
    if not isinstance(data, dict) or not isinstance(data.get("terms"), list):
        raise DictionaryError(f"{where}: a JSON object with a 'terms' list is expected")
    source = _clean(data.get("source"))
    if not source:
        raise DictionaryError(f"{where}: 'source' must say where the dictionary comes from")
    terms: dict[str, dict[str, Any]] = {}
    for i, raw in enumerate(data["terms"], start=1):
        if not isinstance(raw, dict):
            raise DictionaryError(f"{where}: terms[{i}] is not an object")
        entry = _entry(f"{where}: terms[{i}]", raw)
        if entry["term"] in terms:
            raise DictionaryError(f"{where}: terms[{i}]: {entry['term']!r} appears twice")
        terms[entry["term"]] = entry
    if not terms:
        raise DictionaryError(f"{where}: no terms")
    return Dictionary(source, _clean(data.get("retrieved")), _clean(data.get("coverage")), terms)


def load(path: Path) -> Dictionary:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DictionaryError(f"{path}: not a readable UTF-8 JSON file ({err})") from err
    return parse(data, str(path))


@lru_cache(maxsize=1)
def builtin() -> Dictionary:
    return load(BUILTIN)


_active: Dictionary | None = None


def use(dictionary: Dictionary | None) -> None:
    """Make `dictionary` the one every rule reads (None: the built-in set). Set at app start."""
    global _active
    _active = dictionary


def active() -> Dictionary:
    return _active or builtin()


# NCI's spreadsheet columns (CTCAE_4.03_2010-06-14), matched without regard to case or spaces.
COLUMNS = {
    "meddracode": "meddra",
    "meddrasoc": "soc",
    "ctcaeterm": "term",
    "ctcaev4.03term": "term",
    "grade1": "1",
    "grade2": "2",
    "grade3": "3",
    "grade4": "4",
    "grade5": "5",
    "definition": "definition",
}


def from_rows(rows: Iterable[dict[str, Any]], source: str, retrieved: str) -> dict[str, Any]:
    """NCI's spreadsheet rows (header -> cell) as the JSON form `parse` reads, checked."""
    terms = []
    for row in rows:
        named = {COLUMNS.get(re.sub(r"\s+", "", str(k)).casefold()): v for k, v in row.items()}
        if not _clean(named.get("term")):
            continue  # a blank line between blocks
        code = _clean(named.get("meddra"))
        code = code[:-2] if code.endswith(".0") else code  # a spreadsheet's number as a float
        terms.append(
            {
                "term": named.get("term"),
                "meddra": code,
                "soc": named.get("soc"),
                "grades": {g: named.get(g) for g in GRADES},
                "definition": named.get("definition"),
            }
        )
    data = {
        "dictionary": "NCI CTCAE v4.03",
        "source": source,
        "retrieved": retrieved,
        "coverage": "the whole file loaded",
        "terms": terms,
    }
    parsed = parse(data, "rows")
    data["terms"] = list(parsed.terms.values())
    return data


def check_grade(term: str, grade: int) -> dict[str, Any]:
    """The term's entry if `grade` is one CTCAE defines for it; refuses otherwise."""
    entry = active().terms.get(term)
    if entry is None:
        raise ValidationFailed(
            said("'%(term)s' is not a CTCAE v4.03 term of the dictionary.", term=term),
            {"term": N_("unknown term")},
        )
    if str(grade) not in entry["grades"]:
        allowed = ", ".join(entry["grades"])
        raise ValidationFailed(
            said("CTCAE v4.03 defines grades %(grades)s for %(term)s.", grades=allowed, term=term),
            {"grade": said("one of %(choices)s", choices=allowed)},
        )
    return entry
