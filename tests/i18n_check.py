"""What of a template a reader would see in English whatever language they chose: text between
the tags, prose in the attributes people read (placeholder, title, aria-label, alt), and prose
string literals inside {{ }} / {% %} that no translation call wraps.

Run as a script to list a template's findings: python -m tests.i18n_check templates/x.html"""

from __future__ import annotations

import html
import re
import sys
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CATALOG = ROOT / "lotrack/translations/zh_CN/LC_MESSAGES/messages.po"
# Words that are the same in both languages (names, codes, units).
SAME_IN_BOTH = {"lotrack", "DIN", "CoA", "QR", "ISBT", "PDF", "CSV", "JSON", "UTC", "MCB", "WCB"}
SAME_IN_BOTH |= {"SHA-", "Code"}  # SHA-256, Code 128
SAME_IN_BOTH |= {"SZ-GIMI", "SUBJ-", "specs"}  # an example wristband, the specs/ folder
# Literals in template code that are not prose: CSS classes, input types, formats, names.
NOT_PROSE = {
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
}
READ_ATTRIBUTES = r"(?:placeholder|title|aria-label|alt)"
STRING = r"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
# A translation call's string arguments (ngettext has two).
TRANSLATED = re.compile(
    rf"(?:\b_|\bgettext|\bngettext|\bpgettext|\b_l)\(\s*{STRING}(?:\s*,\s*{STRING})?"
)


def _prose(literal: str) -> bool:
    if literal in NOT_PROSE or literal in SAME_IN_BOTH:
        return False
    if re.fullmatch(r"[a-z0-9_.\-/:#%|]*", literal):  # an identifier, endpoint, path or format
        return False
    if "=" in literal or '"' in literal or re.fullmatch(r"[A-Z_]+", literal):
        return False  # HTML attributes, a CSS fragment, a code ("GET")
    if re.fullmatch(r"[a-z0-9_\- ]+", literal) and not re.search(r"[a-z]{2,} [a-z]{2,} ", literal):
        return False  # CSS classes ("button primary"); a sentence has more words
    return bool(re.search(r"[A-Za-z]{2,}", literal))


def _code_literals(code: str) -> list[str]:
    found = []
    for match in re.finditer(STRING, TRANSLATED.sub(" ", code)):
        literal = match.group(0)[1:-1]
        if _prose(literal):
            found.append(literal)
    return found


def untranslated(template: Path | str) -> list[str]:
    """The English a reader of the zh-CN page would meet in `template`."""
    path = Path(template)
    source = (path if path.is_absolute() else TEMPLATES / path).read_text()
    found: list[str] = []
    for block in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", source, flags=re.S):
        found += _code_literals(block[2:-2])
    for _name, value in re.findall(rf"\b({READ_ATTRIBUTES})=\"([^\"]*)\"", source):
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", value, flags=re.S)
        found += [w for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", text) if w not in SAME_IN_BOTH]
    text = source
    for pattern in (
        r"<(style|script)\b.*?</\1>",
        r"\{#.*?#\}",
        r"\{%.*?%\}",
        r"\{\{.*?\}\}",
        r"<[^>]*>",
    ):
        text = re.sub(pattern, " ", text, flags=re.S)
    words = re.findall(r"[A-Za-z][A-Za-z'’-]+", html.unescape(text))
    found += [w for w in words if w not in SAME_IN_BOTH]
    return found


def catalog() -> Catalog:
    with CATALOG.open("rb") as f:
        return read_po(f, locale="zh_CN")


class _TextNodes(HTMLParser):
    """The text a reader sees, one string per run of text between two tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("script", "style") and self._hidden > 0

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._hidden:
            self.nodes.append(text)


def text_nodes(page: str) -> list[str]:
    parser = _TextNodes()
    parser.feed(page)
    return parser.nodes


@cache
def _english_of_the_catalog() -> tuple[frozenset[str], re.Pattern[str] | None]:
    """The catalog's English messages whose Chinese differs, as a page would show them
    untranslated: fixed ones by their text, ones with placeholders as a pattern. Coded values
    (`WORDS`) and one-word messages are left out: records hold such words as data (an audit
    trail's meaning, a state); the template check covers every one of them in the templates."""
    from lotrack.domain.words import WORDS

    fixed: set[str] = set()
    patterns: list[str] = []
    for entry in catalog():
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        text = entry.string[0] if isinstance(entry.string, tuple) else entry.string
        for msgid in ids:
            if not msgid or msgid in WORDS or text == msgid or not re.search("[A-Za-z]", msgid):
                continue
            shown = " ".join(msgid.replace("%%", "%").split())
            parts = re.split(r"%\(\w+\)[sd]", shown)
            words = [
                w for w in re.findall(r"[A-Za-z]{2,}", " ".join(parts)) if w not in SAME_IN_BOTH
            ]
            # A word or two ("unit", "lot %(id)s", "received at %(site)s") is also what records
            # hold as data (an audit trail's record type, a reason typed): sentences only.
            if "%(" not in msgid and len(words) >= 2:
                fixed.add(shown)
            elif len(words) >= 3:
                patterns.append(".+?".join(re.escape(p) for p in parts))
    combined = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
    return frozenset(fixed), combined


def english_left(page: str) -> list[str]:
    """Text on a zh-CN page that is, whole, an English message of the catalog: a message the
    page should have said in Chinese. (Data that merely contains such words is not one.)"""
    fixed, pattern = _english_of_the_catalog()
    return [
        node
        for node in text_nodes(page)
        if node in fixed or (pattern is not None and pattern.fullmatch(node))
    ]


if __name__ == "__main__":
    status = 0
    for name in sys.argv[1:]:
        for finding in untranslated(Path(name).resolve()):
            print(f"{name}: {finding}")
            status = 1
    sys.exit(status)
