"""The translation layer (Flask-Babel): which language a request speaks, and the catalogs.

The person's own choice (their account, or the header switch before logging in) comes first,
then what their browser asks for (Accept-Language), then the site's default (DEFAULT_LANGUAGE).
The API follows the same order, so an integration without Accept-Language reads the site's
language; its machine fields (error codes, field names, states, reason codes) stay English.

Catalogs live as .po files in lotrack/translations (reviewed text, under version control); they
are compiled into the instance folder when the application starts (a few milliseconds)."""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, gettext

from lotrack.domain import ctcae
from lotrack.domain.clock import named
from lotrack.domain.ctcae_names import NO_NAMES, CtcaeNames, load_names
from lotrack.domain.language import Language, choose
from lotrack.domain.text import Moment, Said
from lotrack.domain.words import WORDS
from lotrack.schemas.base import validation_message

CATALOGS = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"
# What browsers send for Chinese, mapped to the one Chinese we speak (simplified, mainland).
BROWSER_TAGS = {"zh_CN": "zh_CN", "zh": "zh_CN", "zh_Hans": "zh_CN", "zh_SG": "zh_CN", "en": "en"}


def select_language() -> str:
    """The request's language, by the person's choice, their browser, then the site (Flask-Babel
    asks once per request; the answer is kept for the request)."""
    return language().value


def language() -> Language:
    """The language this request speaks."""
    default = current_app.config["LOTRACK_DEFAULT_LANGUAGE"]
    if not has_request_context():
        return choose(None, None, default)
    if "language" not in g:
        actor = g.get("actor")
        chosen = getattr(actor, "language", None) or session.get("language")
        asked = request.accept_languages.best_match(list(BROWSER_TAGS))
        g.language = choose(chosen, BROWSER_TAGS.get(asked or ""), default)
    found: Language = g.language
    return found


def say(template: str, params: tuple[tuple[str, str], ...], english: str) -> str:
    """A rule's sentence (domain/text.py) in the request's language; its English text when the
    rule gave no template."""
    if not template:
        return english
    return gettext(template, **{k: _said_again(v) for k, v in params})


def said_reasons(
    said: tuple[tuple[str, tuple[tuple[str, str], ...]], ...], english: tuple[str, ...]
) -> list[str]:
    """A verdict's reasons in the request's language (in English where no template came)."""
    if len(said) != len(english):
        return list(english)
    return [say(t, p, text) for (t, p), text in zip(said, english, strict=True)]


def local_time(moment: dt.datetime | None) -> str:
    """A stored UTC time shown in the viewer's zone (their site's, else the facility's), named."""
    if moment is None:
        return "—"
    viewer = g.get("actor") if has_request_context() else None
    site = getattr(viewer, "site", None)
    zone = site.time_zone if site is not None else current_app.config["LOTRACK_SITE_TIME_ZONE"]
    return named(moment, zone)


def _said_again(value: object) -> object:
    """A sentence's parameter in the reader's language: a sentence translated, a time in the
    reader's zone; anything else (a name, a number) as it is."""
    if isinstance(value, Said):
        return translate(value)
    if isinstance(value, Moment):
        return local_time(value.moment)
    return value


def translate(text: str | None) -> str:
    """A sentence a rule or schema said (domain/text.py), in the request's language: a `Said`
    by its template, its `Said` parameters translated too; a fixed sentence by the catalog; a
    sentence the catalog does not hold (a name, a number) as it is."""
    if not text:
        return text or ""
    if isinstance(text, Said):
        params = {k: _said_again(v) for k, v in text.params.items()}
        return gettext(text.template, **params) if params else gettext(text.template)
    return gettext(text)


def word(value: object) -> str:
    """A coded value (a state, verdict, role) as the reader's language names it."""
    text = "" if value is None else str(value)
    return gettext(text) if text in WORDS else text


def dictionary_file(app: Flask) -> Path:
    """Where the loaded CTCAE dictionary is kept (`lotrack ctcae load` writes it there)."""
    configured = app.config.get("LOTRACK_CTCAE_FILE")
    return Path(configured) if configured else Path(app.instance_path) / "ctcae_v403.json"


def dictionary_of(app: Flask) -> ctcae.Dictionary | None:
    """The dictionary the site loaded, checked (an unusable file is refused at start); None: the
    built-in subset. Every term the investigator's brochure expects must be one of its terms."""
    path = dictionary_file(app)
    chosen = ctcae.load(path) if path.exists() else None  # an unusable file stops the start
    if chosen is None and app.config.get("LOTRACK_CTCAE_FILE"):
        # Not loaded yet (`lotrack ctcae load` needs the app to start): the built-in subset.
        app.logger.warning("LOTRACK_CTCAE_FILE %s does not exist: built-in CTCAE subset", path)
    terms = (chosen or ctcae.builtin()).terms
    unknown = [t for t in expected_terms(app.config) if t not in terms]
    if unknown:
        raise ctcae.DictionaryError(
            f"LOTRACK_IB_EXPECTED_TERMS: {', '.join(unknown)} not in the CTCAE dictionary"
        )
    return chosen


def expected_terms(config: Any) -> frozenset[str]:
    """The investigator's brochure's expected terms (LOTRACK_IB_EXPECTED_TERMS, "|"-separated)."""
    text = config.get("LOTRACK_IB_EXPECTED_TERMS") or ""
    return frozenset(t.strip() for t in text.split("|") if t.strip())


def ctcae_names() -> CtcaeNames:
    """The CTCAE display names the site loaded (none: official English only)."""
    names: CtcaeNames = current_app.extensions.get("lotrack_ctcae_names", NO_NAMES)
    return names


def ctcae_term(term: str) -> str:
    """A CTCAE term as a page shows it: its official English name, after the reader's-language
    display name when the site loaded one (both, so the term stays the one CTCAE defines)."""
    names = ctcae_names()
    shown = names.of(term) if names.language == language().value else None
    return f"{shown} ({term})" if shown else term


def translate_fields(fields: dict[str, str] | None) -> dict[str, str]:
    """A refusal's {"field": "reason"} with each reason translated; the field names stay."""
    return {name: translate(reason) for name, reason in (fields or {}).items()}


def spoken(message: str, fields: dict[str, str] | None) -> tuple[str, dict[str, str]]:
    """A refusal's message and field reasons in the reader's language (the field names, like
    the API's codes, stay as they are)."""
    reasons = translate_fields(fields)
    if fields and message == validation_message(fields):
        return translate(validation_message(reasons)), reasons
    return translate(message), reasons


# A .po's compiled bytes by (path, mtime, size): an application built again in the same process
# (each test builds its own, in a folder of its own) writes them without parsing the .po again.
_compiled: dict[tuple[Path, int, int], bytes] = {}


def _mo_bytes(po: Path) -> bytes:
    """The .mo of `po`, compiled once per process and version of the file."""
    stat = po.stat()
    key = (po, stat.st_mtime_ns, stat.st_size)
    if key not in _compiled:
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        out = io.BytesIO()
        write_mo(out, catalog)
        _compiled[key] = out.getvalue()
    return _compiled[key]


def compile_catalogs(target: Path) -> None:
    """Each .po under lotrack/translations as a .mo under `target`, replaced atomically (several
    workers may start at once) and only when the .po is newer."""
    for po in CATALOGS.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        # Babel looks a catalog up by the locale's full name (zh_CN is zh_Hans_CN to it).
        name = str(Locale.parse(po.parent.parent.name))
        mo = target / name / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        compiled = _mo_bytes(po)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(compiled)
        os.replace(tmp, mo)


def init_app(app: Flask) -> None:
    default = app.config["LOTRACK_DEFAULT_LANGUAGE"]
    if default not in Language._value2member_map_:
        raise ValueError(
            f"LOTRACK_DEFAULT_LANGUAGE={default!r}: one of {', '.join(Language)} is spoken here"
        )
    compiled = Path(app.instance_path) / "translations"
    compile_catalogs(compiled)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    app.config["BABEL_DEFAULT_LOCALE"] = "en"  # the language of the source text (msgids)
    Babel(app, locale_selector=select_language)
    app.jinja_env.globals["current_language"] = language
    app.jinja_env.globals["LANGUAGES"] = list(Language)
    ctcae.use(dictionary_of(app))  # before the names, which are checked against it
    names_file = app.config.get("LOTRACK_CTCAE_NAMES_FILE")
    app.extensions["lotrack_ctcae_names"] = load_names(Path(names_file)) if names_file else NO_NAMES
    app.jinja_env.globals["ctcae_names"] = ctcae_names
    app.jinja_env.filters["ctcae"] = ctcae_term
    app.jinja_env.filters["word"] = word
    app.jinja_env.filters["when"] = local_time
    app.jinja_env.filters["say"] = translate
