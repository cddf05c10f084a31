"""The lockout rules (domain/lockout.py) hold for every count, time and address: an unknown
address's wait grows, is never longer than the cap, and starts again after a quiet day; an
account or its signing locks at exactly the limit; addresses are keyed and bounded alike."""

from __future__ import annotations

import datetime as dt
import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain.lockout import (
    ADDRESS_MAX,
    Count,
    Rules,
    address_delay,
    address_failed,
    address_key,
    lock_failed,
)

T0 = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
rules_st = st.builds(
    Rules,
    max_failures=st.integers(1, 10),
    lock_minutes=st.integers(1, 120),
    free_failures=st.integers(0, 10),
    quiet_hours=st.integers(1, 72),
)
gaps = st.lists(st.integers(0, 3 * 24 * 3600), min_size=1, max_size=40)


@given(rules_st, st.integers(0, 10_000))
def test_the_delay_never_exceeds_the_cap_and_the_first_failures_are_free(rules, failures):
    delay = address_delay(failures, rules)
    assert dt.timedelta(0) <= delay <= rules.cap
    if failures <= rules.free_failures:
        assert delay == dt.timedelta(0)
    else:
        assert delay > dt.timedelta(0)


@given(rules_st, st.integers(0, 10_000))
def test_the_delay_grows_with_each_failure(rules, failures):
    assert address_delay(failures + 1, rules) >= address_delay(failures, rules)


def test_the_delays_are_1_2_4_8_minutes_then_the_cap():
    rules = Rules(max_failures=5, lock_minutes=15, free_failures=3)
    minutes = [address_delay(n, rules).total_seconds() / 60 for n in range(1, 10)]
    assert minutes == [0, 0, 0, 1, 2, 4, 8, 15, 15]


@given(rules_st, gaps)
def test_any_run_of_failures_waits_at_most_the_cap_and_restarts_after_a_quiet_spell(rules, gaps):
    count, now = Count(), T0
    for gap in gaps:
        before = count
        now += dt.timedelta(seconds=gap)
        count = address_failed(count, now, rules)
        assert count.wait(now) <= rules.cap
        assert count.last == now
        quiet = before.last is None or now - before.last >= dt.timedelta(hours=rules.quiet_hours)
        assert count.failures == (1 if quiet else before.failures + 1)


@given(rules_st, st.integers(0, 60))
def test_an_account_locks_at_exactly_the_limit_for_the_lock_minutes(rules, extra):
    count = Count()
    for n in range(1, rules.max_failures):
        count = lock_failed(count, T0, rules)
        assert count.failures == n and count.wait(T0) == dt.timedelta(0)
    locked = lock_failed(count, T0, rules)
    assert locked.failures == 0 and locked.until == T0 + rules.cap
    later = T0 + rules.cap + dt.timedelta(seconds=extra)
    assert locked.wait(later) == dt.timedelta(0)


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_is_its_own_key(ip):
    assert address_key(str(ip)) == str(ip)
    assert address_key(str(ipaddress.IPv6Address(f"::ffff:{ip}"))) == str(ip)  # v4-mapped


@given(st.ip_addresses(v=6), st.integers(0, 2**64 - 1))
def test_one_ipv6_64_network_is_one_address(ip, host):
    network = ipaddress.ip_network(f"{ip}/64", strict=False)
    other = network.network_address + host
    if other.ipv4_mapped is None and ip.ipv4_mapped is None:
        assert address_key(str(ip)) == address_key(str(other)) == str(network)


@given(st.text(max_size=500) | st.just("a" + " " * 70 + "b"))
def test_any_text_gives_a_bounded_key_and_the_key_is_stable(text):
    key = address_key(text)
    assert 0 < len(key) <= ADDRESS_MAX
    assert address_key(key) == key or "/" in key  # a /64 network is not an address itself


def test_no_address_at_all_is_one_named_address():
    assert address_key(None) == address_key("") == address_key("   ") == "unknown"
