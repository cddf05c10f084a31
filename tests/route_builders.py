"""Werkzeug's URL builders, compiled once per test process rather than once per application.

Werkzeug compiles two small Python functions for each route when a rule is bound to a map (about
three thousand `compile()` calls for lotrack's routes), and each test builds its own application.
A builder's code is made only from the rule's text, its parsed parts and its defaults, so the
same rule gives the same function: it is kept by those and made again for anything else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule

_original = getattr(Rule, "_compile_builder", None)
_builders: dict[tuple[Any, ...], Callable[..., tuple[str, str]]] = {}


def _key(rule: Rule, append_unknown: bool) -> tuple[Any, ...] | None:
    defaults = rule.defaults or {}
    try:
        shown = tuple(
            (name, repr(value), type(rule._converters.get(name)).__qualname__)
            for name, value in sorted(defaults.items())
        )
        key = (append_unknown, rule.rule, tuple(rule._trace), shown)
        hash(key)
    except (AttributeError, TypeError):
        return None
    return key


def _compile_builder(self: Rule, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
    key = _key(self, append_unknown)
    if key is None:
        return _original(self, append_unknown)  # type: ignore[misc]
    if key not in _builders:
        _builders[key] = _original(self, append_unknown)  # type: ignore[misc]
    return _builders[key]


def install() -> None:
    """Keep builders per process (no-op on a Werkzeug without the method this replaces)."""
    if _original is not None and Rule._compile_builder is _original:
        Rule._compile_builder = _compile_builder  # type: ignore[method-assign]
