"""Reminders, escalations and the outbox, on a controlled clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import select

from models.db import SessionFactory, transaction
from models.enums import Cycle, OutboxState
from models.messages import PermanentFailure, Reply, TemporaryFailure
from models.tables import Outbox
from reminders.outbox import OutboxSender
from reminders.planning import PLANNING_HORIZON, Planner
from reminders.render import OutboxRenderer
from tests.conftest import Province, add_task, configured, rows

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
CALENDAR = configured().calendar


def at(day: date, hour: int = 8, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def planner(**settings: object) -> Planner:
    return Planner(calendar=CALENDAR, policy=configured(**settings).reminders)


def test_working_days_know_tet_weekends_and_swapped_saturdays() -> None:
    assert not CALENDAR.is_working_day(date(2027, 2, 6)), "first day of Tết (a Saturday anyway)"
    assert not CALENDAR.is_working_day(date(2026, 2, 17)), "first day of Tết 2026, a Tuesday"
    assert not CALENDAR.is_working_day(date(2026, 11, 29)), "a Sunday"
    assert CALENDAR.is_working_day(date(2026, 11, 23))
    swapped = configured(
        working_saturdays=[date(2026, 11, 28)], extra_days_off=[date(2026, 11, 27)]
    ).calendar
    assert swapped.is_working_day(date(2026, 11, 28))
    assert not swapped.is_working_day(date(2026, 11, 27))
    sunday_night = at(date(2026, 11, 29), 21)
    assert CALENDAR.latest_working_moment(sunday_night) == at(date(2026, 11, 27))


def test_the_calendar_follows_the_governments_swaps_for_2026() -> None:
    """Fri 2 Jan 2026 off, worked on Sat 10 Jan; Sat 22 Aug worked, Mon 31 Aug off; Culture Day."""
    assert not CALENDAR.is_working_day(date(2026, 1, 2))
    assert CALENDAR.is_working_day(date(2026, 1, 10))
    assert CALENDAR.is_working_day(date(2026, 8, 22))
    assert not CALENDAR.is_working_day(date(2026, 8, 31))
    assert not CALENDAR.is_working_day(date(2026, 11, 24)), "Ngày Văn hóa Việt Nam"
    assert CALENDAR.is_working_day(date(2026, 11, 25))
    off = {d.day: d.reason for d in CALENDAR.days_off(2026, language="vi")}
    assert off[date(2026, 11, 24)] == "Ngày Văn hóa Việt Nam"
    assert date(2026, 1, 2) in off
    assert date(2026, 2, 17) in off, "Tết"
    worked = [d.day for d in CALENDAR.worked_saturdays(2026)]
    assert worked == [date(2026, 1, 10), date(2026, 8, 22)]
    local = configured(extra_days_off=[date(2026, 12, 31)]).calendar
    assert not local.is_working_day(date(2026, 12, 31)), "a province's own day off"


@pytest.fixture
def linked(chat_as):  # type: ignore[no-untyped-def]
    """Thu Hà (officer) and Tuấn (lead) of Phường Hạ Long have chat accounts."""
    return chat_as("Nguyễn Thu Hà"), chat_as("Lê Minh Tuấn")


def occurrences(
    open_session: SessionFactory, now: datetime, code: str
) -> list[tuple[str, datetime]]:
    """(kind-offset, due) of every occurrence planned for `code` at Phường Hạ Long."""
    from models.tables import Assignment, Task, Unit

    with open_session() as session:
        assignment_id = session.exec(
            select(Assignment.id)
            .join(Task, Task.id == Assignment.task_id)  # type: ignore[arg-type]
            .join(Unit, Unit.id == Assignment.unit_id)  # type: ignore[arg-type]
            .where(Task.code == code, Unit.name == "Phường Hạ Long")
        ).one()
        today = now.astimezone(ZONE).date()
        return sorted(
            (
                f"{o.payload.kind}-{getattr(o.payload, 'days_before', getattr(o.payload, 'nudge', ''))}",
                o.due_at,
            )
            for o in planner().occurrences(session, now=now, today=today)
            if o.payload.assignment_id == assignment_id
        )


def test_the_exact_schedule_of_a_task_due_in_10_days(
    linked, open_session, province: Province
) -> None:
    now = at(date(2026, 11, 23), 8, 30)
    with transaction(open_session) as session:
        add_task(
            session,
            province,
            code="NV-10",
            title="Ban hành quy chế",
            deadline=date(2026, 12, 3),
            unit_names=["Phường Hạ Long"],
        )
    schedule = occurrences(open_session, now, "NV-10")
    assert schedule == [
        ("escalation-", at(date(2026, 12, 9))),
        ("overdue-1", at(date(2026, 12, 4))),
        ("overdue-2", at(date(2026, 12, 7))),
        ("overdue-3", at(date(2026, 12, 8))),
        ("reminder-0", at(date(2026, 12, 3))),
        ("reminder-1", at(date(2026, 12, 2))),
        ("reminder-3", at(date(2026, 11, 30))),
        (
            "reminder-7",
            at(date(2026, 11, 23)),
        ),  # 24/11 is a holiday, so 7 working days go back to the 23rd
    ]


def test_no_reminder_on_a_sunday_or_on_tet(linked, open_session, province: Province) -> None:
    with transaction(open_session) as session:
        add_task(
            session,
            province,
            code="NV-11",
            title="Báo cáo quý I",
            deadline=date(2027, 2, 11),
            unit_names=["Phường Hạ Long"],
        )
    schedule = occurrences(open_session, at(date(2027, 1, 20)), "NV-11")
    for _kind, moment in schedule:
        local = moment.astimezone(ZONE)
        assert CALENDAR.is_working_day(local.date()), local
        assert local.time() == time(8, 0)
    assert ("reminder-1", at(date(2027, 2, 3))) in schedule, "the working day before Tết"


@pytest.fixture
def busy_monday(linked, open_session, province: Province) -> int:
    """Five more tasks due 3/12, so their 7-day reminders all fall on Monday 23/11."""
    with transaction(open_session) as session:
        for n in range(5):
            add_task(
                session,
                province,
                code=f"KH-{n}",
                title=f"Kế hoạch chuyên đề {n}",
                deadline=date(2026, 12, 3),
                unit_names=["Phường Hạ Long"],
            )
    return 6  # and NV-01's third overdue nudge


def run_planner(open_session: SessionFactory, now: datetime, **policy: object) -> int:
    with transaction(open_session) as session:
        return planner(**policy).plan(session, now=now)


def test_planning_twice_writes_each_reminder_once(linked, open_session) -> None:
    now = at(date(2026, 11, 23), 8, 5)
    first = run_planner(open_session, now)
    assert first > 0
    assert run_planner(open_session, now) == 0
    assert run_planner(open_session, now + timedelta(minutes=1)) == 0
    keys = [row.key for row in rows(open_session, Outbox)]
    assert len(keys) == len(set(keys)) == first


def test_coming_back_after_downtime_sends_no_stale_burst(linked, open_session) -> None:
    # NV-01 (deadline 18/11) and NV-03 (3/12) had reminders and nudges while the bot was down.
    now = at(date(2026, 12, 3), 15)  # 7 hours after the morning reminder of NV-03's deadline day
    run_planner(open_session, now)
    planned = rows(open_session, Outbox)
    assert all(row.due_at >= now - timedelta(hours=2) for row in planned), [r.key for r in planned]


class Recorder:
    """A channel that records what it is asked to send; it can fail on purpose."""

    def __init__(
        self, fail: dict[int, Exception] | None = None, crash_after: int | None = None
    ) -> None:
        self.sent: list[tuple[str, str]] = []
        self.calls = 0
        self.fail = fail or {}
        self.crash_after = crash_after

    async def send(
        self,
        *,
        channel: str,
        chat_id: str,
        reply: Reply,
        answers_message: str | None = None,
        leaving: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.calls += 1
        if leaving is not None:
            await leaving()  # the request leaves (a messenger adapter calls this)
        if self.crash_after is not None and self.calls > self.crash_after:
            raise KeyboardInterrupt  # the process is killed in the middle of a send
        if self.calls in self.fail:
            raise self.fail[self.calls]
        await asyncio.sleep(0)
        self.sent.append((chat_id, reply.text))


def outbox_sender(
    open_session: SessionFactory, recorder: Recorder, **options: object
) -> OutboxSender:
    return OutboxSender(
        open_session=open_session,
        sender=recorder,
        render=OutboxRenderer(calendar=CALENDAR, language="vi"),
        grace=configured().reminders.grace,
        **options,  # type: ignore[arg-type]
    )


def test_reminders_are_sent_once_with_report_and_snooze_buttons(linked, open_session) -> None:
    ha, _lead = linked
    now = at(date(2026, 11, 23), 8, 1)
    run_planner(open_session, now)
    recorder = Recorder()
    result = asyncio.run(outbox_sender(open_session, recorder).send_due(now=now))
    assert result.sent == len(recorder.sent) > 0
    assert all(chat == ha.name for chat, _text in recorder.sent)
    texts = "\n".join(text for _chat, text in recorder.sent)
    assert "🔴 Quá hạn: NV-01" in texts
    assert asyncio.run(outbox_sender(open_session, recorder).send_due(now=now)).sent == 0
    assert all(row.state == OutboxState.SENT for row in rows(open_session, Outbox))


def test_escalation_goes_to_the_unit_lead_after_the_nudges(linked, open_session) -> None:
    _ha, lead = linked
    # NV-01 was due 18/11: nudges on 19, 20 and 23/11, then (24/11 being a holiday) escalation.
    now = at(date(2026, 11, 25), 8, 1)
    run_planner(open_session, now)
    recorder = Recorder()
    asyncio.run(outbox_sender(open_session, recorder).send_due(now=now))
    escalations = [text for chat, text in recorder.sent if chat == lead.name]
    assert escalations, recorder.sent
    assert "Phường Hạ Long chưa hoàn thành NV-01" in escalations[0]


def test_snooze_moves_a_reminder_to_the_next_working_morning(linked, open_session) -> None:
    ha, _lead = linked
    now = at(date(2026, 11, 23), 8, 1)
    run_planner(open_session, now)
    asyncio.run(outbox_sender(open_session, Recorder()).send_due(now=now))
    reminder = next(r for r in rows(open_session, Outbox) if r.payload["kind"] == "overdue")
    ha.now = now + timedelta(minutes=5)
    ha.send(choice=f"snooze:{reminder.id}")
    assert "25/11/2026" in ha.text, "24/11 is a public holiday"
    [snoozed] = [r for r in rows(open_session, Outbox) if r.key.startswith("snooze:")]
    assert snoozed.due_at == at(date(2026, 11, 25))
    assert snoozed.chat_id == ha.name
    tuan = linked[1]
    tuan.send(choice=f"snooze:{reminder.id}")
    assert "không phải của bạn" in tuan.text, "nobody snoozes someone else's reminder"


def test_reporting_from_a_reminder_and_done_tasks_are_not_reminded(linked, open_session) -> None:
    ha, _lead = linked
    now = at(date(2026, 11, 23), 8, 1)
    run_planner(open_session, now)
    ha.say("/baocao NV-01 100% Đã ban hành kế hoạch")
    recorder = Recorder()
    result = asyncio.run(outbox_sender(open_session, recorder).send_due(now=now))
    assert not any("NV-01" in text for _chat, text in recorder.sent)
    assert result.dropped >= 1


def test_failures_are_retried_recorded_or_left_unknown(busy_monday, open_session) -> None:
    now = at(date(2026, 11, 23), 8, 1)
    run_planner(open_session, now)
    total = len(rows(open_session, Outbox))
    assert total == busy_monday
    recorder = Recorder(fail={1: TemporaryFailure("429"), 2: PermanentFailure("blocked")})
    result = asyncio.run(outbox_sender(open_session, recorder).send_due(now=now))
    assert (result.retried, result.failed, result.sent) == (1, 1, total - 2)
    later = now + timedelta(minutes=2)
    again = asyncio.run(outbox_sender(open_session, recorder).send_due(now=later))
    assert again.sent == 1, "the temporary failure went out on the retry"
    states = sorted(row.state for row in rows(open_session, Outbox))
    assert states.count(OutboxState.FAILED) == 1


def test_a_sender_killed_mid_batch_delivers_the_rest_without_duplicates(
    busy_monday, open_session
) -> None:
    now = at(date(2026, 11, 23), 8, 1)
    run_planner(open_session, now)
    total = len(rows(open_session, Outbox))
    assert total >= 4
    dying = Recorder(crash_after=2)
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(outbox_sender(open_session, dying).send_due(now=now))
    assert len(dying.sent) == 2
    restarted = Recorder()
    after_restart = now + timedelta(minutes=6)  # past the dead sender's lease
    result = asyncio.run(outbox_sender(open_session, restarted).send_due(now=after_restart))
    assert result.unknown == 1, "the one in flight is not resent"
    assert len(dying.sent) + len(restarted.sent) == total - 1
    assert not set(dying.sent) & set(restarted.sent)


def test_two_senders_at_once_send_each_message_once(busy_monday, open_session, engine) -> None:
    now = at(date(2026, 11, 23), 8, 1)
    run_planner(open_session, now)
    total = len(rows(open_session, Outbox))
    first, second = Recorder(), Recorder()

    async def both() -> None:
        await asyncio.gather(
            outbox_sender(open_session, first, batch=1).send_due(now=now),
            outbox_sender(open_session, second, batch=1).send_due(now=now),
        )

    asyncio.run(both())
    delivered = first.sent + second.sent
    assert len(delivered) == total
    assert len(set(delivered)) == total


def test_the_scheduler_clock_can_be_frozen_for_planning(linked, open_session) -> None:
    with time_machine.travel(at(date(2026, 11, 29), 21), tick=False):  # Sunday night
        now = datetime.now(ZONE)
        run_planner(open_session, now)
        due_now = [r for r in rows(open_session, Outbox) if r.due_at <= now]
        assert due_now == [], "nothing is due on a Sunday night"


def test_periodic_tasks_are_reminded_until_reported_this_period(linked, open_session) -> None:
    ha, _lead = linked
    # NV-03 is monthly: November's report is due on the last working day, Monday 30/11.
    schedule = occurrences(open_session, at(date(2026, 11, 25), 8, 1), "NV-03")
    assert ("reminder-3", at(date(2026, 11, 25))) in schedule
    assert ("reminder-0", at(date(2026, 11, 30))) in schedule
    ha.say("/baocao NV-03 30% Đã họp triển khai")
    assert occurrences(open_session, at(date(2026, 11, 25), 8, 1), "NV-03") == [], (
        "reported this month"
    )
    december = occurrences(open_session, at(date(2026, 12, 1), 8, 1), "NV-03")
    assert ("reminder-0", at(date(2026, 12, 3))) in december, (
        "December's period ends at the task's deadline"
    )


def test_the_scheduler_runs_planning_often_and_digests_on_monday_and_thursday_mornings(
    linked, open_session
) -> None:
    from reminders.scheduler import ReminderService, build_scheduler

    clock = [at(date(2026, 11, 23), 8, 1)]
    recorder = Recorder()
    service = ReminderService(
        open_session=open_session,
        planner=planner(),
        outbox=outbox_sender(open_session, recorder),
        clock=lambda: clock[0],
    )
    scheduler = build_scheduler(service, schedule=configured().schedule, zone=ZONE)
    digests = scheduler.get_job("digests")
    assert digests is not None
    assert digests.trigger.get_next_fire_time(None, at(date(2026, 11, 23), 8, 30)) == at(
        date(2026, 11, 26)
    )
    assert digests.trigger.get_next_fire_time(None, at(date(2026, 11, 26), 9)) == at(
        date(2026, 11, 30)
    )
    assert scheduler.get_job("retention") is not None
    reminders = scheduler.get_job("reminders")
    assert reminders is not None
    assert reminders.trigger.interval == timedelta(seconds=60)

    result = asyncio.run(service.tick())
    assert result.sent == len(recorder.sent) > 0
    assert asyncio.run(service.tick()).sent == 0, "a second run sends nothing twice"


def test_retention_forgets_old_deliveries_and_finished_messages_but_no_report(
    linked, open_session
) -> None:
    from models.queue import record_delivery, store_inbox
    from models.tables import InboxUpdate, Report, SeenDelivery
    from reminders.scheduler import ReminderService

    ha, _lead = linked
    ha.say("/baocao NV-03 30% Đã họp")
    now = at(date(2026, 11, 23), 8, 1)
    run_planner(open_session, now)
    asyncio.run(outbox_sender(open_session, Recorder()).send_due(now=now))
    with transaction(open_session) as session:
        record_delivery(
            session, channel="telegram", delivery_id="old", at=now - timedelta(days=40)
        )
        store_inbox(
            session, channel="telegram", delivery_id="old", payload={}, at=now - timedelta(days=40)
        )
        session.exec(select(InboxUpdate)).one().handled_at = now - timedelta(days=40)
    sent_before = len(rows(open_session, Outbox))
    later = now + timedelta(days=200)
    service = ReminderService(
        open_session=open_session,
        planner=planner(),
        outbox=outbox_sender(open_session, Recorder()),
        clock=lambda: later,
    )
    removed = asyncio.run(service.purge())
    assert removed["inbox"] == 1
    assert removed["outbox"] == sent_before > 0
    assert rows(open_session, Outbox) == []
    assert rows(open_session, InboxUpdate) == []
    assert all(
        d.received_at >= later - timedelta(days=30) for d in rows(open_session, SeenDelivery)
    )
    assert len(rows(open_session, Report)) == 1, "reports are never purged"


def test_set_based_planning_writes_exactly_the_occurrences_of_its_window(
    linked, chat_as, open_session, province: Province
) -> None:
    """The planner reads only the assignments due on dates with an occurrence in its window;
    across a year (Tết, swapped days, weekends, periodic tasks) it writes exactly what the
    full enumeration says is due in that window."""
    with transaction(open_session) as session:
        for n, (deadline, cycle) in enumerate(
            [
                (date(2027, 2, 11), Cycle.ONCE),  # around Tết 2027
                (date(2027, 1, 4), Cycle.ONCE),  # after New Year's Day
                (date(2027, 12, 31), Cycle.WEEKLY),
                (date(2027, 12, 31), Cycle.MONTHLY),
                (date(2027, 3, 15), Cycle.QUARTERLY),  # a deadline inside a quarter
            ]
        ):
            add_task(
                session,
                province,
                code=f"YR-{n}",
                title=f"Nhiệm vụ trong năm {n}",
                deadline=deadline,
                unit_names=["Phường Hạ Long", "Xã Ba Chẽ"],
                cycle=cycle,
            )
    chat_as("Phạm Thị Lan")  # Xã Ba Chẽ's officer, reachable too
    moments = [
        at(date(2026, 11, 23), 8) + timedelta(days=d, hours=h)
        for d in range(0, 420, 9)
        for h in (0, 5)
    ]
    for now in moments:
        with transaction(open_session) as session:
            session.execute(sa.delete(Outbox))
        planner_ = planner()
        with transaction(open_session) as session:
            today = now.astimezone(ZONE).date()
            expected = {
                o.key
                for o in planner_.occurrences(session, now=now, today=today)
                if now - planner_.policy.grace <= o.due_at <= now + PLANNING_HORIZON
            }
            written = planner_.plan(session, now=now)
        keys = {row.key for row in rows(open_session, Outbox)}
        assert keys == expected, now
        assert written == len(expected)
