"""CTCAE display names in another language, loaded from a file that names its source.

CTCAE terms keep their official English names: they are the dictionary's key, stored on every
adverse event and exported as they are. A site may load a Chinese display name for each term
(LOTRACK_CTCAE_NAMES_FILE); pages then show both, the Chinese first. The file must say where
its names come from (a published translation, or the sponsor's approved glossary), and every
entry must name a term of the dictionary with its MedDRA code, so a mistyped term or a name
meant for another term is refused when the application starts, never shown beside a wrong term.

The file (UTF-8 JSON):
    {"language": "zh_CN", "source": "…where these names come from…",
     "names": [{"term": "Infusion related reaction", "meddra": "10051792", "name": "…"}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lotrack.domain.clinical import ctcae_terms


class CtcaeNamesError(ValueError):
    """The names file cannot be used; the message names the file, entry and reason."""


@dataclass(frozen=True)
class CtcaeNames:
    language: str = ""
    source: str = ""
    names: dict[str, str] = field(default_factory=dict)  # official English term -> display name

    def of(self, term: str) -> str | None:
        return self.names.get(term)


NO_NAMES = CtcaeNames()


def _entry(where: str, raw: Any, terms: dict[str, dict[str, Any]]) -> tuple[str, str]:
    if not isinstance(raw, dict):
        raise CtcaeNamesError(f"{where}: an entry must be an object with term, meddra and name")
    term, meddra, name = (str(raw.get(k) or "").strip() for k in ("term", "meddra", "name"))
    if term not in terms:
        raise CtcaeNamesError(f"{where}: {term!r} is not a CTCAE v4.03 term of the dictionary")
    if meddra != terms[term]["meddra"]:
        raise CtcaeNamesError(
            f"{where}: {term!r} has MedDRA code {terms[term]['meddra']}, not {meddra!r}"
        )
    if not name:
        raise CtcaeNamesError(f"{where}: {term!r} has no display name")
    return term, name


def load_names(path: Path) -> CtcaeNames:
    """The names in `path`, checked against the dictionary; CtcaeNamesError otherwise."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CtcaeNamesError(f"{path}: not a readable UTF-8 JSON file ({err})") from err
    if not isinstance(data, dict):
        raise CtcaeNamesError(f"{path}: the file must hold one JSON object")
    source = str(data.get("source") or "").strip()
    if not source:
        raise CtcaeNamesError(f"{path}: 'source' must say where these names come from")
    language = str(data.get("language") or "").strip()
    if not language:
        raise CtcaeNamesError(f"{path}: 'language' must name the names' language, e.g. zh_CN")
    entries = data.get("names")
    if not isinstance(entries, list) or not entries:
        raise CtcaeNamesError(f"{path}: 'names' must be a non-empty list")
    terms = ctcae_terms()
    names: dict[str, str] = {}
    for i, raw in enumerate(entries, start=1):
        term, name = _entry(f"{path}: names[{i}]", raw, terms)
        if term in names:
            raise CtcaeNamesError(f"{path}: names[{i}]: {term!r} is named twice")
        names[term] = name
    return CtcaeNames(language, source, names)
