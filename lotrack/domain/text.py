"""Sentences the rules say to people, marked for translation without importing a translation
library (the domain imports only the standard library): `N_` marks a fixed sentence for the
catalog (pybabel's default keywords include it); `said` marks a sentence with parameters and
keeps them, so an edge can say it again in the reader's language (lotrack/i18n.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any


def N_(template: str) -> str:
    """Mark `template` for translation; it stays the English text here."""
    return template


class Said(str):
    """An English sentence (it is the str) that remembers the template and parameters it was
    made from: code that compares, logs or stores it sees English; an edge translates it."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Said:
        text = template % {k: str(v) for k, v in params.items()} if params else template
        made = super().__new__(cls, text)
        made.template = template
        made.params = params
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (_said_again, (self.template, self.params))


def _said_again(template: str, params: dict[str, Any]) -> Said:
    return Said(template, **params)


def said(template: str, **params: Any) -> Said:
    """`template % params` in English, keeping both for translation (pybabel keyword `said`)."""
    return Said(template, **params)


class Moment(str):
    """A stored time inside a sentence: in English (the str) "2026-12-04 06:15 UTC"; an edge
    shows it in the reader's zone, named, as every page shows a time."""

    moment: dt.datetime

    def __new__(cls, moment: dt.datetime) -> Moment:
        made = super().__new__(cls, f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC")
        made.moment = moment
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (Moment, (self.moment,))
