"""When a wrong password makes someone wait: the account's lockout, an address's growing delay,
and the signing lock. Pure rules over plain counts; services/lockout.py keeps the counts.

A network attacker does not know from which addresses a person logs in. So failures from an
address the account has logged in from before (a known address) count toward locking the account,
as a person's own typing would; failures from any other address only make that address wait, for
that account, longer each time up to a cap, and never lock the account: nobody elsewhere on the
network can lock a QA user out. A wrong password at signing locks signing only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, replace

ADDRESS_MAX = 64  # stored addresses are bounded: what a client sends is not trusted to be short
IPV6_PREFIX = 64  # one IPv6 host rotates privacy addresses within its /64: that is one address
LOGIN, SIGNING = "login", "signing"
KINDS = (LOGIN, SIGNING)


@dataclass(frozen=True)
class Rules:
    """How many failures lock, for how long, and how an unknown address is slowed."""

    max_failures: int  # from known addresses (or at signing) before the lock
    lock_minutes: int  # the lock's length, and the longest an address is made to wait
    free_failures: int = 3  # from an unknown address before it waits at all (typing on a new PC)
    quiet_hours: int = 24  # an address's count starts again after this long without a failure

    @property
    def cap(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.lock_minutes)


@dataclass(frozen=True)
class Count:
    """Failures counted toward one lock or delay, the last one's time, and the end of the wait."""

    failures: int = 0
    last: dt.datetime | None = None
    until: dt.datetime | None = None

    def wait(self, now: dt.datetime) -> dt.timedelta:
        """How long before another attempt is heard (zero: now)."""
        if self.until is None or self.until <= now:
            return dt.timedelta(0)
        return self.until - now


def address_key(remote: str | None) -> str:
    """The address failures are counted under: IPv4 as is, IPv6 by its /64 network."""
    text = (remote or "").strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text[:ADDRESS_MAX].strip() or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


def spray_failed(count: Count, now: dt.datetime, limit: int, window: dt.timedelta) -> Count:
    """One address's failed logins under any username, after one more: failures each within
    `window` of the last add up; the `limit`-th makes the address wait `window`, and the count
    starts again. Stops one address trying a common password against every username."""
    stale = count.last is None or now - count.last >= window
    failures = 1 if stale else count.failures + 1
    if limit > 0 and failures >= limit:
        return Count(0, now, now + window)
    return Count(failures, now, count.until)


def address_delay(failures: int, rules: Rules) -> dt.timedelta:
    """The wait after an unknown address's `failures`-th failure: none for the first few, then
    1, 2, 4 ... minutes, never more than the cap."""
    over = failures - rules.free_failures
    if over <= 0:
        return dt.timedelta(0)
    # The exponent is bounded first: 2**n minutes of a large n would overflow timedelta.
    minutes = 2 ** min(over - 1, 32)
    return min(dt.timedelta(minutes=minutes), rules.cap)


def address_failed(count: Count, now: dt.datetime, rules: Rules) -> Count:
    """An unknown address's count after one more failure (a quiet day starts it again)."""
    stale = count.last is None or now - count.last >= dt.timedelta(hours=rules.quiet_hours)
    failures = 1 if stale else count.failures + 1
    delay = address_delay(failures, rules)
    return Count(failures, now, now + delay if delay else None)


def lock_failed(count: Count, now: dt.datetime, rules: Rules) -> Count:
    """An account's (or its signing's) count after one more failure: at the limit it locks
    for `lock_minutes` and the count starts again."""
    failures = count.failures + 1
    if failures >= rules.max_failures:
        return Count(0, now, now + rules.cap)
    return replace(count, failures=failures, last=now)
