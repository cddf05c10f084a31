"""Counts what each request commits: how many commits, and which tables those commits wrote.

Installed on an application's engine (every request's session uses it), so a test can prove the
unit of work: at most one commit per request, and a refused request keeps nothing but what a
refusal must keep (a failure count toward lockout and its audit event). Statements are read as
sent, so Core updates and inserts count as much as ORM flushes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import event

# What a refusal may keep: the failure count on the account, and the audit trail of the attempt.
KEPT_BY_A_REFUSAL = frozenset({"user_account", "audit_event", "audit_head"})
WRITE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


@dataclass
class CommitProbe:
    commits: int = 0
    written: set[str] = field(default_factory=set)  # tables written by the commits counted
    pending: set[str] = field(default_factory=set)  # written, not yet committed nor undone

    def reset(self) -> None:
        self.commits, self.written, self.pending = 0, set(), set()

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if match := WRITE.match(statement):
            self.pending.add(match.group(1).lower())

    def _committed(self, _conn: Any) -> None:
        self.commits += 1
        self.written |= self.pending
        self.pending = set()

    def _rolled_back(self, _conn: Any) -> None:
        self.pending = set()


def install(app: Flask) -> CommitProbe:
    """Start counting the commits of `app`'s engine."""
    probe = CommitProbe()
    engine = app.extensions["lotrack_db"].engine
    event.listen(engine, "before_cursor_execute", probe._statement)
    event.listen(engine, "commit", probe._committed)
    event.listen(engine, "rollback", probe._rolled_back)
    return probe
