"""What of a template a reader would see in English whatever language they chose: text between
the tags, prose in the attributes people read (placeholder, title, aria-label, alt), and prose
string literals inside {{ }} / {% %} that no translation call wraps.

Run as a script to list a template's findings: python -m tests.i18n_check templates/x.html"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
# Words that are the same in both languages (names, codes, units).
SAME_IN_BOTH = {"lotrack", "DIN", "CoA", "QR", "ISBT", "PDF", "CSV", "JSON", "UTC", "MCB", "WCB"}
# Literals in template code that are not prose: CSS classes, input types, formats, names.
NOT_PROSE = {
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
}
READ_ATTRIBUTES = r"(?:placeholder|title|aria-label|alt)"
STRING = r"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
# A translation call's string arguments (ngettext has two).
TRANSLATED = re.compile(rf"(?:\b_|\bgettext|\bngettext|\b_l)\(\s*{STRING}(?:\s*,\s*{STRING})?")


def _prose(literal: str) -> bool:
    if literal in NOT_PROSE or literal in SAME_IN_BOTH:
        return False
    if re.fullmatch(r"[a-z0-9_.\-/:#%|]*", literal):  # an identifier, endpoint, path or format
        return False
    if "=" in literal or re.fullmatch(r"[A-Z_]+", literal):  # HTML attributes; a code ("GET")
        return False
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
    for pattern in (r"\{#.*?#\}", r"\{%.*?%\}", r"\{\{.*?\}\}", r"<[^>]*>"):
        text = re.sub(pattern, " ", text, flags=re.S)
    words = re.findall(r"[A-Za-z][A-Za-z'’-]+", html.unescape(text))
    found += [w for w in words if w not in SAME_IN_BOTH]
    return found


if __name__ == "__main__":
    status = 0
    for name in sys.argv[1:]:
        for finding in untranslated(Path(name).resolve()):
            print(f"{name}: {finding}")
            status = 1
    sys.exit(status)
