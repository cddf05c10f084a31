"""A shipment's temperature trace, read from a data logger's CSV export and judged against the
product's range: pure rules, standard library only (services/cold_chain.py gathers and keeps).

Reading: each logger writes its own columns and date format; a `Mapping` names them. The header
line is found by its column names (exports start with a preamble of the logger's details). A row
whose temperature is blank (or "NA", "-", "---") is a reading not taken: it adds no fact, and the
gap rule judges the time it leaves uncovered. Anything else that cannot be read refuses the whole
file, naming the line and why: a judgement is never made on part of a file.

Judging (`judge`): only readings from dispatch to receipt count (a logger is started in the lab and
read at the site: before and after, it records the room). Temperatures are exact (Decimal): a
reading exactly at the limit is in range. A stretch out of range lasts from its first reading out
to the next reading back in (or its last reading, at the window's end); beyond the allowance
(default zero) it is an excursion. Time not covered by readings at most `max_gap` apart, from
dispatch to receipt, is an unknown cold chain and judged as an excursion too: a missing fact is
never read as a safe one."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_, said

BLANK = frozenset({"", "na", "n/a", "-", "--", "---", "null"})
HEADER_SEARCH_LINES = 60  # a logger's preamble is shorter than this
MAX_ROWS = 100_000  # a 5-minute logger for a year is 105 120 rows; a shipment is days


@dataclass(frozen=True)
class Mapping:
    """How one logger's CSV export names its columns and writes its times. `date_column` is for
    exports that put the date and the time of day in two columns (joined with a space)."""

    name: str
    time_column: str
    temperature_column: str
    time_format: str = "iso"  # a strptime format, or "iso" (ISO 8601, an offset optional)
    # The zone of times written without an offset; empty: the zone the file is read in (the
    # facility's, services/cold_chain.py), since a logger exports the clock of the PC it is read on.
    zone: str = ""
    delimiter: str = ","
    decimal_comma: bool = False  # "-150,5": exports in a European locale
    date_column: str = ""
    label: str = ""


# Plausible exports of common loggers; a site whose export differs configures its own
# (LOTRACK_LOGGER_MAPPINGS, config.py). Confirm the columns against a real export before use.
BUILT_IN: dict[str, Mapping] = {
    m.name: m
    for m in (
        Mapping("generic", "timestamp", "temperature", label="timestamp,temperature (ISO 8601)"),
        Mapping(
            "temptale",
            "Date/Time",
            "Temperature (°C)",
            "%m/%d/%Y %H:%M:%S",
            label="Sensitech TempTale (Date/Time, Temperature (°C), MM/DD/YYYY)",
        ),
        Mapping(
            "elpro",
            "Date Time",
            "T1 [°C]",
            "%d.%m.%Y %H:%M:%S",
            delimiter=";",
            decimal_comma=True,
            label="ELPRO LIBERO (Date Time; T1 [°C], DD.MM.YYYY, decimal comma)",
        ),
        Mapping(
            "logtag",
            "Time",
            "Temperature (°C)",
            "%d/%m/%Y %H:%M:%S",
            date_column="Date",
            label="LogTag Analyzer (Date, Time, Temperature (°C), DD/MM/YYYY)",
        ),
    )
}


def mappings_from(text: str) -> dict[str, Mapping]:
    """The built-in mappings with those a setting's JSON adds or replaces:
    {"name": {"time_column": ..., "temperature_column": ..., "time_format": ..., ...}, ...}."""
    found = dict(BUILT_IN)
    if not (text or "").strip():
        return found
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise TypeError("an object of mappings by name")
        for name, spec in raw.items():
            if not isinstance(spec, dict):
                raise TypeError(f"{name}: an object")
            m = Mapping(name=str(name), **{str(k): v for k, v in spec.items()})
            if not m.time_column or not m.temperature_column or len(m.delimiter) != 1:
                raise TypeError(f"{name}: time_column, temperature_column, one-char delimiter")
            if m.zone:
                ZoneInfo(m.zone)
            found[m.name] = m
    except (ValueError, TypeError, ZoneInfoNotFoundError) as err:
        raise ValidationFailed(
            said("LOTRACK_LOGGER_MAPPINGS cannot be read: %(why)s", why=str(err)),
            {"LOTRACK_LOGGER_MAPPINGS": str(err)},
        ) from err
    return found


@dataclass(frozen=True)
class Reading:
    at: dt.datetime  # UTC
    celsius: Decimal
    line: int  # in the file, from 1


@dataclass(frozen=True)
class Trace:
    readings: tuple[Reading, ...]  # in time order
    blanks: int = 0  # rows whose temperature was not taken


def _refuse(line: int, why: str, **params: object) -> ValidationFailed:
    reason = said(why, **params)
    return ValidationFailed(
        said("The logger file cannot be read: line %(line)s: %(why)s", line=line, why=reason),
        {"logger_file": said("line %(line)s: %(why)s", line=line, why=reason)},
    )


def _time(text: str, m: Mapping, line: int, zone: ZoneInfo) -> dt.datetime:
    try:
        if m.time_format == "iso":
            at = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            at = dt.datetime.strptime(text, m.time_format)
    except ValueError as err:
        raise _refuse(line, N_("the time %(text)s is not %(format)s"), text=text[:40],
                      format=m.time_format) from err  # fmt: skip
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone)
    return at.astimezone(dt.UTC)


def _celsius(text: str, m: Mapping, line: int) -> Decimal | None:
    raw = text.strip().replace("°C", "").replace("°", "").strip()
    if raw.lower() in BLANK:
        return None
    if m.decimal_comma:
        raw = raw.replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation as err:
        raise _refuse(line, N_("the temperature %(text)s is not a number"), text=text[:40]) from err
    if not value.is_finite():
        raise _refuse(line, N_("the temperature %(text)s is not a number"), text=text[:40])
    return value


def _header(rows: list[list[str]], m: Mapping) -> tuple[int, dict[str, int]]:
    wanted = [c for c in (m.date_column, m.time_column, m.temperature_column) if c]
    for index, row in enumerate(rows[:HEADER_SEARCH_LINES]):
        names = {cell.strip().lstrip("\ufeff"): i for i, cell in enumerate(row)}
        if all(w in names for w in wanted):
            return index, names
    raise _refuse(
        1,
        N_("no header line names the columns %(columns)s (%(mapping)s)"),
        columns=", ".join(wanted),
        mapping=m.name,
    )


def parse(data: bytes, m: Mapping, local_zone: str) -> Trace:
    """The readings of a logger's CSV export, in time order (ties keep the file's order); a time
    without an offset is in the mapping's zone, or else in `local_zone`."""
    zone = ZoneInfo(m.zone or local_zone)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # exports from a Chinese-locale PC
        except UnicodeDecodeError as err:
            raise _refuse(1, N_("the file is not text (UTF-8 or GB18030)")) from err
    rows = list(csv.reader(io.StringIO(text), delimiter=m.delimiter))
    if len(rows) > MAX_ROWS:
        raise _refuse(MAX_ROWS + 1, N_("more than %(max)s lines"), max=MAX_ROWS)
    start, names = _header(rows, m)
    readings: list[Reading] = []
    blanks = 0
    for index, row in enumerate(rows[start + 1 :], start=start + 2):
        if not any(cell.strip() for cell in row):
            continue  # an empty line (the export's end)
        if len(row) <= max(names[c] for c in (m.time_column, m.temperature_column)):
            raise _refuse(index, N_("fewer columns than the header"))
        when = row[names[m.time_column]].strip()
        if m.date_column:
            when = f"{row[names[m.date_column]].strip()} {when}"
        at = _time(when, m, index, zone)
        celsius = _celsius(row[names[m.temperature_column]], m, index)
        if celsius is None:
            blanks += 1
        else:
            readings.append(Reading(at, celsius, index))
    if not readings:
        raise _refuse(start + 2, N_("the file holds no temperature reading"))
    return Trace(tuple(sorted(readings, key=lambda r: r.at)), blanks)


# ---- judging ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """The product's allowed range in transit (either bound may be absent), how long it may be
    left (zero: not at all), and the longest time between two readings that still shows it."""

    max_c: Decimal | None
    min_c: Decimal | None = None
    allowed: dt.timedelta = dt.timedelta(0)
    max_gap: dt.timedelta = dt.timedelta(minutes=30)


ABOVE, BELOW, GAP = "above", "below", "gap"


class ExcursionOutcome(StrEnum):
    """QA's decision on an excursion: the units go on, or they are destroyed."""

    RELEASED = "released"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Problem:
    kind: str  # ABOVE, BELOW or GAP
    start: dt.datetime
    end: dt.datetime
    extreme: Decimal | None = None  # the warmest (above) or coldest (below) reading
    within_allowance: bool = False  # out of range no longer than allowed: shown, not held

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Judgement:
    excursion: bool
    problems: tuple[Problem, ...]
    judged: int  # readings from dispatch to receipt
    ignored: int  # readings before dispatch or after receipt
    highest: Decimal | None = None  # among those judged
    lowest: Decimal | None = None
    codes: tuple[str, ...] = field(default=())

    @property
    def held(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if not p.within_allowance)


def _side(r: Reading, limits: Range) -> str:
    if limits.max_c is not None and r.celsius > limits.max_c:
        return ABOVE
    if limits.min_c is not None and r.celsius < limits.min_c:
        return BELOW
    return ""


def _stretches(readings: Sequence[Reading], limits: Range) -> Iterable[Problem]:
    """Each run of readings out of range on one side, from its first reading out to the next
    reading (whatever it reads), or to its last reading when the trace ends out of range."""
    i = 0
    while i < len(readings):
        side = _side(readings[i], limits)
        if not side:
            i += 1
            continue
        j = i
        while j + 1 < len(readings) and _side(readings[j + 1], limits) == side:
            j += 1
        run = readings[i : j + 1]
        pick = max if side == ABOVE else min
        end = readings[j + 1].at if j + 1 < len(readings) else readings[j].at
        yield Problem(side, readings[i].at, end, pick(r.celsius for r in run))
        i = j + 1


def _gaps(
    times: Sequence[dt.datetime], start: dt.datetime, end: dt.datetime, max_gap: dt.timedelta
) -> Iterable[Problem]:
    """Stretches of the window longer than `max_gap` with no reading, its ends included."""
    marks = [start, *times, end]
    for a, b in pairwise(marks):
        if b - a > max_gap:
            yield Problem(GAP, a, b)


def judge(
    trace: Trace, limits: Range, shipped_at: dt.datetime, received_at: dt.datetime
) -> Judgement:
    """The trace from dispatch to receipt against the range: excursion or not, and why."""
    inside = [r for r in trace.readings if shipped_at <= r.at <= received_at]
    problems: list[Problem] = []
    for p in _stretches(inside, limits):
        allowed = p.duration <= limits.allowed and limits.allowed > dt.timedelta(0)
        problems.append(Problem(p.kind, p.start, p.end, p.extreme, within_allowance=allowed))
    problems.extend(_gaps([r.at for r in inside], shipped_at, received_at, limits.max_gap))
    if not inside and received_at - shipped_at <= limits.max_gap:
        # A short journey with no reading in it: nothing shows its cold chain.
        problems.append(Problem(GAP, shipped_at, received_at))
    problems.sort(key=lambda p: (p.start, p.kind))
    held = [p for p in problems if not p.within_allowance]
    return Judgement(
        excursion=bool(held),
        problems=tuple(problems),
        judged=len(inside),
        ignored=len(trace.readings) - len(inside),
        highest=max((r.celsius for r in inside), default=None),
        lowest=min((r.celsius for r in inside), default=None),
        codes=tuple(dict.fromkeys(p.kind for p in held)),
    )


# ---- settings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The range a shipment is judged against, where it comes from, and the loggers' mappings."""

    limits: Range
    source: str
    mappings: dict[str, Mapping]


def _bound(cfg: dict[str, object], key: str) -> Decimal | None:
    text = str(cfg.get(key) or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValidationFailed(
            said("%(key)s %(value)s: a temperature in °C is expected.", key=key, value=text),
            {key: "°C"},
        )
    return value


def settings_of(cfg: dict[str, object], mappings_json: str = "") -> Settings:
    """The cold-chain settings from the configuration (config.py names and documents them)."""
    limits = Range(
        max_c=_bound(cfg, "LOTRACK_COLD_CHAIN_MAX_C"),
        min_c=_bound(cfg, "LOTRACK_COLD_CHAIN_MIN_C"),
        allowed=dt.timedelta(minutes=int(str(cfg.get("LOTRACK_COLD_CHAIN_ALLOWED_MINUTES") or 0))),
        max_gap=dt.timedelta(minutes=int(str(cfg.get("LOTRACK_COLD_CHAIN_MAX_GAP_MINUTES") or 30))),
    )
    source = str(cfg.get("LOTRACK_COLD_CHAIN_RANGE_SOURCE") or "")
    return Settings(limits, source, mappings_from(mappings_json))
