"""EventBridge Scheduler's expressions and time zones (ecs_cd/core/schedules.py): what is accepted,
the one line said about each mistake, and when a schedule runs next."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ecs_cd.core.schedules import next_run, validate_expression, validate_timezone

NOW = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)  # a Sunday


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 3 * * ? *)",
        "cron(0/15 8-17 ? * MON-FRI *)",
        "cron(30 2 1,15 JAN-MAR ? 2027-2030)",
        "cron(0 3 L * ? *)",
        "cron(0 3 LW * ? *)",
        "cron(0 3 15W * ? *)",
        "cron(0 3 ? * 6L *)",
        "cron(0 3 ? * 2#1 *)",
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(7 days)",
        "at(2027-01-31T03:00:00)",
    ],
)
def test_expressions_scheduler_accepts_are_accepted(expression: str) -> None:
    assert validate_expression(expression) == expression


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        ("cron(0 3 * * *)", "6 fields separated by one space"),
        (
            "cron(0 3 * * * *)",
            "exactly one of day-of-month (3rd field) and day-of-week (5th field) must be '?'",
        ),
        ("cron(0 3 ? * ? *)", "exactly one of day-of-month"),
        ("cron(60 3 * * ? *)", "'60' is not a value of minutes (0-59)"),
        ("cron(0 24 * * ? *)", "'24' is not a value of hours (0-23)"),
        ("cron(0 3 32 * ? *)", "'32' is not a value of day-of-month (1-31)"),
        ("cron(0 3 * FOO ? *)", "'FOO' is not a value of month (1-12 or JAN-DEC)"),
        ("cron(0 3 ? * 8 *)", "'8' is not a value of day-of-week (1-7 or SUN-SAT)"),
        ("cron(0 3 ? * 2#6 *)", "the week after '#' is 1-5"),
        ("cron(0 3 * * ? 1969)", "'1969' is not a value of year (1970-2199)"),
        ("cron(0 5-3 * * ? *)", "a range runs from low to high"),
        ("cron(0/0 3 * * ? *)", "the step after '/' must be a whole number >= 1"),
        ("cron(0 3 * * ? *) ", "ends with ')' and nothing after it"),
        ("cron(0  3 * * ? *)", "6 fields separated by one space"),
        ("rate(1 hours)", "singular for 1 and plural above: rate(1 hour), rate(2 hours)"),
        ("rate(5 minute)", "singular for 1 and plural above"),
        ("rate(0 minutes)", "singular for 1 and plural above"),
        ("rate(5 weeks)", "unit minute(s), hour(s) or day(s)"),
        ("rate(five minutes)", "a rate is rate(N unit)"),
        ("at(2027-02-30T03:00:00)", "names no real date and time"),
        ("at(2027-01-31 03:00)", "at(yyyy-mm-ddThh:mm:ss)"),
        ("0 3 * * *", "cron(...), rate(...) or at(...)"),
        ("", "cron(...), rate(...) or at(...)"),
    ],
)
def test_each_mistaken_expression_is_one_line_saying_what_is_allowed(expression: str, said: str) -> None:
    with pytest.raises(ValueError) as caught:
        validate_expression(expression)
    message = str(caught.value)
    assert said in message
    assert "\n" not in message


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"])
def test_iana_time_zones_are_accepted(zone: str) -> None:
    assert validate_timezone(zone) == zone


@pytest.mark.parametrize(
    "zone", ["Europe/Pariss", "CEST", "Mars/Olympus", "../etc/passwd", " UTC", "", "Europe/"]
)
def test_other_time_zones_are_one_line(zone: str) -> None:
    with pytest.raises(ValueError) as caught:
        validate_timezone(zone)
    assert "IANA" in str(caught.value) and "\n" not in str(caught.value)


def test_a_nightly_cron_runs_next_at_its_local_time() -> None:
    # 03:00 in Paris is 02:00 UTC in winter
    assert next_run("cron(0 3 * * ? *)", "Europe/Paris", after=NOW) == datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    # and 01:00 UTC in summer (daylight saving time)
    summer = datetime(2027, 7, 1, 12, 0, tzinfo=UTC)
    assert next_run("cron(0 3 * * ? *)", "Europe/Paris", after=summer) == datetime(
        2027, 7, 2, 1, 0, tzinfo=UTC
    )


def test_day_rules_of_cron() -> None:
    # weekdays from 08:00 every 15 minutes: Monday 08:00 in New York (13:00 UTC)
    assert next_run("cron(0/15 8-17 ? * MON-FRI *)", "America/New_York", after=NOW) == datetime(
        2026, 12, 7, 13, 0, tzinfo=UTC
    )
    # the last day of the month, the last Friday, the first Monday, the weekday nearest the 5th
    assert next_run("cron(0 3 L * ? *)", "UTC", after=NOW) == datetime(2026, 12, 31, 3, 0, tzinfo=UTC)
    assert next_run("cron(0 3 ? * 6L *)", "UTC", after=NOW) == datetime(2026, 12, 25, 3, 0, tzinfo=UTC)
    assert next_run("cron(0 3 ? * 2#1 *)", "UTC", after=NOW) == datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    # 2027-06-05 is a Saturday: the nearest weekday is Friday the 4th
    june = datetime(2027, 6, 1, tzinfo=UTC)
    assert next_run("cron(0 3 5W * ? *)", "UTC", after=june) == datetime(2027, 6, 4, 3, 0, tzinfo=UTC)


def test_a_cron_whose_years_are_over_and_a_past_at_never_run() -> None:
    assert next_run("cron(0 3 * * ? 2025)", "UTC", after=NOW) is None
    assert next_run("at(2026-01-01T00:00:00)", "UTC", after=NOW) is None
    assert next_run("at(2027-01-01T00:00:00)", "Europe/Paris", after=NOW) == datetime(
        2026, 12, 31, 23, 0, tzinfo=UTC
    )


def test_a_rate_counts_from_when_the_schedule_started() -> None:
    since = datetime(2026, 12, 6, 17, 58, tzinfo=UTC)
    assert next_run("rate(5 minutes)", "UTC", after=NOW, since=since) == datetime(
        2026, 12, 6, 18, 3, tzinfo=UTC
    )
    assert next_run("rate(1 day)", "UTC", after=NOW, since=since) == datetime(2026, 12, 7, 17, 58, tzinfo=UTC)
