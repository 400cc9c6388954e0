"""EventBridge Scheduler's schedule expressions and time zones: their rules, and when a schedule
runs next (standard library only, so the loader and ecs-release share it).

- ``cron(minutes hours day-of-month month day-of-week year)``: six fields; one of day-of-month
  and day-of-week is ``?``; ``*``, ``,``, ``-`` and ``/`` everywhere, ``L`` and ``W`` in
  day-of-month, ``L`` and ``#`` in day-of-week; months ``1-12`` or ``JAN-DEC``, days of the week
  ``1-7`` (1 is Sunday) or ``SUN-SAT``; years 1970-2199.
- ``rate(N unit)``: N >= 1 of ``minute``/``hour``/``day`` (singular for 1, plural above).
- ``at(yyyy-mm-ddThh:mm:ss)``: once, at that time.

The expression runs in the schedule's time zone, an IANA name (``Europe/Paris``; default UTC).
"""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

EXAMPLES = "cron(0 3 * * ? *), rate(12 hours) or at(2027-01-31T03:00:00)"
_MONTHS = {name: i + 1 for i, name in enumerate(calendar.month_abbr[1:])}
_MONTHS = {k.upper(): v for k, v in _MONTHS.items()}
_WEEKDAYS = {name: i + 1 for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_RATE = re.compile(r"rate\((\d{1,9}) (minute|minutes|hour|hours|day|days)\)")
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
_CRON = re.compile(r"cron\((.*)\)")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minutes", 0, 59, {}),
    _Field("hours", 0, 23, {}),
    _Field("day-of-month", 1, 31, {}),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 1, 7, _WEEKDAYS),
    _Field("year", 1970, 2199, {}),
)


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression: the allowed values of each plain field, and the day rules."""

    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day_of_month: str
    day_of_week: str

    def day_matches(self, day: datetime) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        if self.day_of_month != "?":
            return _dom_matches(self.day_of_month, day)
        return _dow_matches(self.day_of_week, day)


def _number(token: str, field: _Field) -> int:
    value = field.names.get(token.upper()) if not token.isdigit() else int(token)
    if value is None or not field.low <= value <= field.high:
        names = (*field.names,)
        allowed = f"{field.low}-{field.high}" + (f" or {names[0]}-{names[-1]}" if names else "")
        raise ValueError(f"{token!r} is not a value of {field.name} ({allowed})")
    return value


def _values(text: str, field: _Field) -> frozenset[int]:
    """The values of a plain field: ``*``, ``a``, ``a-b``, ``a/n``, ``*/n``, ``a-b/n``, comma-separated."""
    found: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ValueError(f"{part!r}: the step after '/' must be a whole number >= 1")
            step = int(step_text)
        if base == "*":
            low, high = field.low, field.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _number(first, field), _number(last, field)
            if low > high:
                raise ValueError(f"{part!r}: a range runs from low to high")
        else:
            low = _number(base, field)
            high = field.high if slash else low
        found.update(range(low, high + 1, step))
    return frozenset(found)


def _check_day_field(text: str, field: _Field) -> None:
    """Day-of-month (``L``, ``nW``, ``LW``) and day-of-week (``nL``, ``n#k``) beside the plain forms."""
    if text == "?":
        return
    if field.name == "day-of-month" and (text in ("L", "LW") or re.fullmatch(r"\d{1,2}W", text)):
        if text.endswith("W") and text != "LW":
            _number(text[:-1], field)
        return
    if field.name == "day-of-week":
        if re.fullmatch(r"[0-9A-Za-z]{1,3}L", text):
            _number(text[:-1], field)
            return
        if "#" in text:
            day, _, nth = text.partition("#")
            _number(day, field)
            if nth not in ("1", "2", "3", "4", "5"):
                raise ValueError(f"{text!r}: the week after '#' is 1-5")
            return
    _values(text, field)


def parse_cron(body: str) -> Cron:
    parts = body.split()
    if len(parts) != 6 or body != " ".join(parts):
        raise ValueError(
            f"a cron expression has 6 fields separated by one space (minutes hours day-of-month month "
            f"day-of-week year), e.g. cron(0 3 * * ? *): this one has {len(parts)}"
        )
    minutes, hours, dom, month, dow, year = parts
    if (dom == "?") == (dow == "?"):
        raise ValueError(
            "exactly one of day-of-month (3rd field) and day-of-week (5th field) must be '?', "
            "e.g. cron(0 3 * * ? *) or cron(0 3 ? * MON-FRI *)"
        )
    try:
        _check_day_field(dom, _FIELDS[2])
        _check_day_field(dow, _FIELDS[4])
        return Cron(
            minutes=_values(minutes, _FIELDS[0]),
            hours=_values(hours, _FIELDS[1]),
            months=_values(month, _FIELDS[3]),
            years=_values(year, _FIELDS[5]),
            day_of_month=dom,
            day_of_week=dow,
        )
    except ValueError as exc:
        raise ValueError(
            f"{exc}: a cron expression is cron(minutes hours day-of-month month day-of-week year)"
        ) from None


def _weekday(day: datetime) -> int:
    """AWS's day-of-week number: 1 is Sunday."""
    return (day.weekday() + 1) % 7 + 1


def _dom_matches(text: str, day: datetime) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if text == "L":
        return day.day == last
    if text.endswith("W"):
        wanted = last if text == "LW" else min(int(text[:-1]), last)
        return day.day == _nearest_weekday(day.year, day.month, wanted)
    return day.day in _values(text, _FIELDS[2])


def _nearest_weekday(year: int, month: int, wanted: int) -> int:
    last = calendar.monthrange(year, month)[1]
    weekday = calendar.weekday(year, month, wanted)  # Monday 0
    if weekday == 5:  # Saturday: the Friday before, or the Monday after on the 1st
        return wanted - 1 if wanted > 1 else wanted + 2
    if weekday == 6:  # Sunday: the Monday after, or the Friday before on the last day
        return wanted + 1 if wanted < last else wanted - 2
    return wanted


def _dow_matches(text: str, day: datetime) -> bool:
    weekday = _weekday(day)
    if text.endswith("L") and text != "L":
        last = calendar.monthrange(day.year, day.month)[1]
        return weekday == _number(text[:-1], _FIELDS[4]) and day.day + 7 > last
    if text == "L":
        return weekday == 7
    if "#" in text:
        wanted, _, nth = text.partition("#")
        return weekday == _number(wanted, _FIELDS[4]) and (day.day - 1) // 7 + 1 == int(nth)
    return weekday in _values(text, _FIELDS[4])


def validate_expression(value: str) -> str:
    """``value`` if it is a cron, rate or at expression EventBridge Scheduler accepts."""
    if value.startswith("cron("):
        match = _CRON.fullmatch(value)
        if match is None:
            raise ValueError("a cron expression ends with ')' and nothing after it, e.g. cron(0 3 * * ? *)")
        parse_cron(match.group(1))
        return value
    if value.startswith("rate("):
        match = _RATE.fullmatch(value)
        if match is None:
            raise ValueError(
                "a rate is rate(N unit) with N >= 1 and unit minute(s), hour(s) or day(s), "
                "e.g. rate(12 hours)"
            )
        count, unit = int(match.group(1)), match.group(2)
        if count < 1 or (count == 1) != (not unit.endswith("s")):
            raise ValueError(
                f"a rate counts 1 or more units, singular for 1 and plural above: "
                f"rate(1 {unit.rstrip('s')}), rate({max(count, 2)} {unit.rstrip('s')}s)"
            )
        return value
    if value.startswith("at("):
        match = _AT.fullmatch(value)
        if match is None:
            raise ValueError("a one-time schedule is at(yyyy-mm-ddThh:mm:ss), e.g. at(2027-01-31T03:00:00)")
        try:
            datetime.fromisoformat(match.group(1))
        except ValueError:
            raise ValueError(f"at(...) names no real date and time: {match.group(1)}") from None
        return value
    raise ValueError(f"a schedule expression is cron(...), rate(...) or at(...), e.g. {EXAMPLES}")


def validate_timezone(value: str) -> str:
    """``value`` if it is an IANA time zone name (``Europe/Paris``, ``UTC``)."""
    if value != value.strip() or not re.fullmatch(r"[A-Za-z0-9_+\-/]{1,50}", value) or ".." in value:
        raise ValueError("a time zone is an IANA name such as 'Europe/Paris', 'America/New_York' or 'UTC'")
    if value not in _zones():
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "is not an IANA time zone name: use one such as 'Europe/Paris', 'America/New_York' or 'UTC'"
            ) from None
    return value


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def next_run(
    expression: str, timezone: str, *, after: datetime, since: datetime | None = None
) -> datetime | None:
    """When the schedule runs next after ``after`` (aware), in UTC; None if it never will (an at()
    past, a cron whose years are over). ``since``: when a rate schedule started (its creation)."""
    zone = ZoneInfo(timezone)
    if expression.startswith("at("):
        match = _AT.fullmatch(expression)
        assert match is not None
        when = datetime.fromisoformat(match.group(1)).replace(tzinfo=zone).astimezone(UTC)
        return when if when > after else None
    if expression.startswith("rate("):
        match = _RATE.fullmatch(expression)
        assert match is not None
        period = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2).rstrip("s")])
        start = since or after
        if start > after:
            return start.astimezone(UTC)
        steps = (after - start) // period + 1
        return (start + steps * period).astimezone(UTC)
    match = _CRON.fullmatch(expression)
    assert match is not None
    return _next_cron(parse_cron(match.group(1)), zone, after)


def _next_cron(cron: Cron, zone: ZoneInfo, after: datetime) -> datetime | None:
    local = after.astimezone(zone)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    last_year = max(cron.years)
    while day.year <= last_year:
        if cron.day_matches(day):
            for hour in sorted(cron.hours):
                for minute in sorted(cron.minutes):
                    when = day.replace(hour=hour, minute=minute).replace(tzinfo=zone).astimezone(UTC)
                    if when > after:
                        return when
        day += timedelta(days=1)
    return None
