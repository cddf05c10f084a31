"""Role grants: a role in NEEDS_SECOND_PERSON takes effect only once a second administrator,
not the one who asked, approves it; both acts are recorded and audited."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lotrack.domain.permissions import NEEDS_SECOND_PERSON, ROLES, SITE_ROLES, GrantState, Role
from lotrack.domain.text import N_, Said, said
from lotrack.models import Enrolment, RoleGrant, User
from lotrack.services import audit


def needs_second_person(role: str) -> bool:
    return role in NEEDS_SECOND_PERSON


def pending_of(session: Session, user: User) -> RoleGrant | None:
    return session.scalar(
        select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.state == GrantState.PENDING)
    )


def _refuse_if_pending(session: Session, user: User) -> None:
    if pending_of(session, user) is not None:
        raise Conflict(
            said("A role grant for %(name)s awaits a decision already.", name=user.username),
            {"role": N_("a grant awaits approval")},
        )


def hold(session: Session, actor: User, user: User, reason: str, *, new: bool) -> RoleGrant:
    """Hold an account with a role in NEEDS_SECOND_PERSON (inactive) until a second
    administrator approves its role again: a new account (`new`), or one whose password an
    administrator reset (whoever holds the new code could otherwise enrol in its owner's place)."""
    _refuse_if_pending(session, user)
    if user.active:
        audit.changed(session, actor, user, {"active": False}, reason)
    grant = RoleGrant(
        user_id=user.id, role=user.role, previous_role=None if new else user.role,
        requested_by_id=actor.id, reason=(reason or "").strip(),
    )  # fmt: skip
    audit.created(session, actor, grant, reason)
    return grant


def change_role(
    session: Session, actor: User, user: User, role: str, reason: str
) -> RoleGrant | None:
    """Change a user's role: at once for a role anyone may give, else as a request awaiting a
    second administrator (returned). A reason is required either way."""
    fields: dict[str, str] = {}
    if role not in ROLES:
        fields["role"] = said("one of %(choices)s", choices=", ".join(ROLES))
    elif role == user.role:
        fields["role"] = N_("the user has this role already")
    elif (role in SITE_ROLES) != (user.site_id is not None):
        fields["role"] = N_("clinical users are bound to a site; create a new account instead")
    if not (reason or "").strip():
        fields["reason"] = N_("required")
    if user.id == actor.id:
        fields["user"] = N_("you cannot change your own role")
    if fields:
        raise ValidationFailed(N_("The role cannot be changed."), fields)
    _refuse_if_pending(session, user)
    if not needs_second_person(role):
        audit.changed(session, actor, user, {"role": Role(role)}, reason.strip())
        return None
    grant = RoleGrant(
        user_id=user.id, role=Role(role), previous_role=user.role, requested_by_id=actor.id,
        reason=reason.strip(),
    )  # fmt: skip
    audit.created(session, actor, grant, reason.strip())
    return grant


def _enrolled_by(session: Session, user: User) -> int | None:
    """Who issued the enrolment the user last set their password with (None: none, or the CLI)."""
    return session.scalar(
        select(Enrolment.issued_by_id)
        .where(Enrolment.user_id == user.id, Enrolment.used_at.is_not(None))
        .order_by(Enrolment.used_at.desc())
        .limit(1)
    )


def decide(session: Session, actor: User, grant_id: int, approve: bool, reason: str) -> RoleGrant:
    """A second administrator approves or refuses a pending grant; approval gives the role."""
    grant = session.get(RoleGrant, grant_id)
    if grant is None:
        raise NotFound(said("No role grant %(id)s.", id=grant_id), {"grant": N_("unknown")})
    if grant.state != GrantState.PENDING:
        raise Conflict(
            said(
                "Role grant %(id)s was decided already (%(state)s).",
                id=grant_id,
                state=Said(grant.state),
            ),
            {"grant": N_("decided already")},
        )
    if actor.id == grant.requested_by_id:
        raise Forbidden(
            N_("You asked for this role grant: a second administrator must decide on it."),
            {"grant": N_("your own request")},
        )
    if actor.id == grant.user_id:
        raise Forbidden(
            N_("Nobody decides on a grant of their own role."), {"grant": N_("your own role")}
        )
    if _enrolled_by(session, actor) == grant.requested_by_id:
        # The requester held the code this account was enrolled with: not surely a second person.
        raise Forbidden(
            N_(
                "Your account was enrolled with a code the requester issued, so you cannot be"
                " the second person for their requests."
            ),
            {"grant": N_("enrolled by the requester")},
        )
    if approve and grant.user.enrolled_at is None:
        # The approver confirms with the person that they enrolled themselves, then approves.
        raise Conflict(
            said(
                "%(name)s has not enrolled yet: approve once they have, after confirming with"
                " them that they did.",
                name=grant.user.username,
            ),
            {"grant": N_("not enrolled yet")},
        )
    if not approve and not (reason or "").strip():
        raise ValidationFailed(N_("Say why the grant is refused."), {"reason": N_("required")})
    state, now = (GrantState.APPROVED if approve else GrantState.REFUSED), utcnow()
    # Guarded: two administrators deciding at once cannot both succeed.
    done = session.execute(
        update(RoleGrant)
        .where(RoleGrant.id == grant.id, RoleGrant.state == GrantState.PENDING)
        .values(state=state, decided_by_id=actor.id, decided_at=now, decision_reason=reason.strip())
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        session.expire(grant)
        raise Conflict(N_("Another administrator decided on this grant at the same moment."))
    session.expire(grant)
    audit.event(
        session, actor, "role_grant_" + state.value, grant,
        {"user": grant.user.username, "role": grant.role, "decided_at": now},
        reason.strip(), transitions={"state": (GrantState.PENDING, state)},
    )  # fmt: skip
    if approve:
        changes: dict[str, object] = {"role": grant.role}
        if grant.previous_role in (None, grant.role):
            changes["active"] = True  # a new or reset account, held until approved (hold)
        audit.changed(
            session, actor, grant.user, changes, said("role grant %(id)s approved", id=grant.id)
        )
    return grant


def pending(session: Session) -> list[RoleGrant]:
    """Grants awaiting a decision, oldest first (the users page lists them)."""
    return list(
        session.scalars(
            select(RoleGrant)
            .where(RoleGrant.state == GrantState.PENDING)
            .options(selectinload(RoleGrant.user), selectinload(RoleGrant.requested_by))
            .order_by(RoleGrant.id)
        )
    )


BOOTSTRAP_ADMINS = 2  # two administrators are needed before any grant can be approved


def check_console_role(session: Session, role: str) -> None:
    """The command line creates accounts without a second person, so it gives no signing role,
    and admin only to the first BOOTSTRAP_ADMINS administrators (who approve everything after)."""
    if role in (Role.QA, Role.MEDICAL_DIRECTOR):
        raise Forbidden(
            said(
                "The role %(role)s takes a second administrator's approval: create this account"
                " in the application (Users, New user).",
                role=Said(role),
            ),
            {"role": N_("granted in the application only")},
        )
    if role == Role.ADMIN:
        admins = session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
        )
        if admins >= BOOTSTRAP_ADMINS:
            raise Forbidden(
                said(
                    "There are %(num)s administrators already: a new one is created in the"
                    " application, where a second administrator approves the role.",
                    num=admins,
                ),
                {"role": N_("granted in the application only")},
            )
