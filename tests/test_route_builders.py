"""The URL builders kept per process (route_builders.py) are the ones Werkzeug would compile."""

from __future__ import annotations

from flask import Flask, url_for

from tests import route_builders


def _code(function) -> tuple:
    code = function.__code__
    return (code.co_code, code.co_consts, code.co_names, code.co_varnames, function.__defaults__)


def test_every_routes_kept_builders_are_what_werkzeug_compiles_for_it(app: Flask) -> None:
    assert route_builders.Rule._compile_builder is route_builders._compile_builder
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 100
    for rule in rules:
        for append_unknown in (False, True):
            kept = rule._compile_builder(append_unknown)
            fresh = route_builders._original(rule, append_unknown)
            assert kept is not fresh
            assert _code(kept) == _code(fresh), rule.rule
    with app.test_request_context():
        assert url_for("static", filename="a b.css") == "/static/a%20b.css"
