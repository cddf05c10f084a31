"""A walk of the pages a signed-in user reaches by following links, shared by the page checks
(content policy, languages): every GET link on the site, at most PER_ENDPOINT pages per route."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from html import unescape
from urllib.parse import urljoin, urlsplit

from flask import Flask
from flask.testing import FlaskClient

SKIP = (".pdf", ".csv", ".pem", ".json", ".svg", ".png", ".zpl")
PER_ENDPOINT = 2  # two instances of each page suffice; the demo has many lots and units
HREF = re.compile(r"""<a\s[^>]*?href=["']([^"']+)["']""")


def crawl(
    app: Flask,
    client: FlaskClient,
    check: Callable[[str, str], None],
    start: str = "/",
    headers: dict[str, str] | None = None,
) -> set[str]:
    """Call `check(path, html)` on each HTML page reachable from `start`; the routes rendered."""
    adapter = app.url_map.bind("localhost")
    seen_endpoint: dict[str, int] = {}
    queue: deque[str] = deque([start])
    visited: set[str] = set()
    rendered: set[str] = set()
    while queue:
        path = queue.popleft()
        if path in visited:
            continue
        visited.add(path)
        resp = client.get(path, follow_redirects=True, headers=headers or {})
        assert resp.status_code < 500, path
        if resp.mimetype != "text/html":
            continue
        path = resp.request.path  # where a redirect (the home page's, say) ended
        if resp.status_code == 200:
            rendered.add(adapter.match(path)[0])
        html = resp.get_data(as_text=True)
        check(path, html)
        for href in HREF.findall(html):
            url = urlsplit(urljoin("http://localhost" + path, unescape(href)))
            target = url.path + (f"?{url.query}" if url.query else "")
            if url.netloc != "localhost" or url.path.startswith("/static/"):
                continue
            if url.path.endswith(SKIP) or url.path == "/logout" or target in visited:
                continue
            try:
                endpoint, _args = adapter.match(url.path)
            except Exception:  # a 404 or redirect link is still worth rendering once
                endpoint = url.path
            if seen_endpoint.get(endpoint, 0) < PER_ENDPOINT:
                seen_endpoint[endpoint] = seen_endpoint.get(endpoint, 0) + 1
                queue.append(target)
    return rendered
