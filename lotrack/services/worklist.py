"""What waits on each role, counted: the home page's worklist and GET /api/v1/worklist.

Each item is a kind of work, its count, the page where that work is done (filtered where the
page has a filter) and the few oldest records waiting, each linked to its own page. Every count
is a COUNT (or one grouped read) in the database and every sample a LIMITed read, so the
worklist costs a fixed number of queries whatever the size of the record; site users' items
are counted at their own site only (services/worklist_clinic.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.permissions import GrantState, Role
from lotrack.domain.text import N_, Said, said
from lotrack.models import RoleGrant, User

SAMPLE = 5  # records shown under each item; the count says how many wait in all


@dataclass(frozen=True)
class Link:
    """A page, by its endpoint and arguments (the edge turns it into a URL)."""

    endpoint: str
    values: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def to(cls, endpoint: str, **values: Any) -> Link:
        return cls(endpoint, tuple(sorted(values.items())))

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.values)


@dataclass(frozen=True)
class Entry:
    """One record waiting: what people call it, a few words on why, where it is done."""

    label: str
    detail: Said | str
    link: Link


@dataclass(frozen=True)
class Item:
    """One kind of work: how many wait, where the work is done, the oldest few."""

    kind: str  # a stable code clients read, e.g. "results_to_verify"
    title: str  # an English sentence marked for translation (N_)
    count: int
    link: Link | None
    entries: list[Entry] = field(default_factory=list)


@dataclass(frozen=True)
class Worklist:
    role: str
    items: list[Item]

    @property
    def total(self) -> int:
        return sum(i.count for i in self.items)


@dataclass(frozen=True)
class VisitRules:
    """The one-month visit's protocol day and window (LOTRACK_VISIT_DAY, _WINDOW_DAYS)."""

    day: int = 30
    window: int = 7


def worklist(session: Session, actor: User, visits: VisitRules | None = None) -> Worklist:
    """The work waiting on `actor`'s role (at their site, for site staff)."""
    # Imported here: the lab and clinic modules import this one's types.
    from lotrack.services import worklist_clinic, worklist_lab, worklist_qa, worklist_safety

    builders: dict[str, Callable[[], list[Item]]] = {
        Role.TECHNICIAN: lambda: worklist_lab.technician(session, actor),
        Role.QA: lambda: worklist_qa.qa(session, actor),
        Role.MEDICAL_DIRECTOR: lambda: worklist_safety.medical_director(session, actor),
        Role.CLINICAL: lambda: worklist_clinic.nurse(session, actor, visits or VisitRules()),
        Role.INVESTIGATOR: lambda: worklist_clinic.investigator(
            session, actor, visits or VisitRules()
        ),
        Role.ADMIN: lambda: admin(session),
    }
    build = builders.get(str(actor.role))
    return Worklist(str(actor.role), build() if build else [])


def admin(session: Session) -> list[Item]:
    """Accounts awaiting a second administrator's approval, and accounts locked now."""
    pending = RoleGrant.state == GrantState.PENDING
    grants = session.execute(
        select(RoleGrant.id, User.username, RoleGrant.role)
        .join(User, RoleGrant.user_id == User.id)
        .where(pending)
        .order_by(RoleGrant.id)
        .limit(SAMPLE)
    ).all()
    now = utcnow()
    locked = or_(User.locked_until > now, User.signing_locked_until > now)
    accounts = session.execute(
        select(User.username, User.locked_until, User.signing_locked_until)
        .where(locked)
        .order_by(User.username)
        .limit(SAMPLE)
    ).all()
    return [
        Item(
            "accounts_awaiting_approval",
            N_("Accounts awaiting approval"),
            count(session, RoleGrant, pending),
            Link.to("admin.users"),
            [
                Entry(
                    name,
                    said("role %(role)s", role=Said(str(role))),
                    Link.to("admin.grant", grant_id=i),
                )
                for i, name, role in grants
            ],
        ),
        Item(
            "locked_accounts",
            N_("Locked accounts"),
            count(session, User, locked),
            Link.to("lockout.list_lockouts"),
            [
                Entry(name, _locked(login, signing, now), Link.to("lockout.list_lockouts"))
                for name, login, signing in accounts
            ],
        ),
    ]


def _locked(login: dt.datetime | None, signing: dt.datetime | None, now: dt.datetime) -> Said:
    if login is not None and login > now:
        return said("login locked")
    return said("signing locked")


def count(session: Session, model: Any, *where: Any) -> int:
    """How many rows of `model` meet every condition (one COUNT query)."""
    return session.scalar(select(func.count()).select_from(model).where(and_(True, *where))) or 0
