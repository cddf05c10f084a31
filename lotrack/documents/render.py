"""PDF rendering with WeasyPrint from plain data (dicts and strings, never ORM objects), through
its own Jinja environment so services can render without Flask. It fetches only `data:` URLs."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint import HTML, Attachment
from weasyprint.urls import URLFetcher

from lotrack.documents.bilingual import Captions

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)
# The documents' captions in every language they print (a caller passes its own `t` to choose).
_env.globals["t"] = Captions()


def data_only_fetcher() -> URLFetcher:
    """Refuses every URL but `data:`: a document must not reach the network or the disk."""
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


def render_html(template: str, **context: Any) -> str:
    return _env.get_template(template).render(**context)


def pdf_from_html(
    html: str, *, attachments: dict[str, str] | None = None, pdf_a: bool = False
) -> bytes:
    """`attachments` ({file name: text}) are embedded; for a CoA, the data snapshot (PDF/A-3b)."""
    options: dict[str, Any] = {}
    fetcher = data_only_fetcher()
    if attachments:
        options["attachments"] = [
            Attachment(string=text, name=name, description=name, url_fetcher=fetcher)
            for name, text in attachments.items()
        ]
    if pdf_a:
        options["pdf_variant"] = "pdf/a-3b"
    document = HTML(string=html, url_fetcher=fetcher, base_url=None)
    with warnings.catch_warnings():
        # WeasyPrint 70 opens its sRGB output-intent profile (PDF/A) and never closes it; the
        # ResourceWarning is its own, raised synchronously here, and says nothing about our code.
        warnings.filterwarnings(
            "ignore", r"unclosed file .*sRGB2014\.icc", category=ResourceWarning
        )
        return document.write_pdf(**options)


def pdf_from_template(template: str, **context: Any) -> bytes:
    return pdf_from_html(render_html(template, **context))
