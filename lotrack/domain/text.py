"""Sentences the rules say to people, marked for translation without importing a translation
library (the domain imports only the standard library): `N_` marks a template for the catalog
(pybabel's default keywords include it); the edges translate the template and fill in its
parameters in the reader's language (lotrack/i18n.py)."""

from __future__ import annotations


def N_(template: str) -> str:
    """Mark `template` for translation; it stays the English text here."""
    return template
