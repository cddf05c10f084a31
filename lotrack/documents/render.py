"""PDF rendering with WeasyPrint from plain data; it fetches nothing but `data:` URLs."""

from __future__ import annotations

from typing import Any

from flask import render_template
from weasyprint import HTML, default_url_fetcher


def data_only_fetcher(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Refuse every URL but `data:`: a document must not reach the network or the disk."""
    if not url.startswith("data:"):
        raise ValueError(f"documents fetch only data: URLs, not {url[:40]}")
    return default_url_fetcher(url, *args, **kwargs)


def pdf_from_template(template: str, **context: Any) -> bytes:
    html = render_template(template, **context)
    return HTML(string=html, url_fetcher=data_only_fetcher, base_url=None).write_pdf()
