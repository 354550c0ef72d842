"""The inbox: stored before acknowledged, handled once, in order per chat, by any worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from bot.inbox import Inbox
from models.db import transaction
from models.queue import store_inbox
from models.tables import InboxUpdate
from tests.conftest import NOW, rows


def _inbox(open_session, process, **options: Any) -> Inbox:
    return Inbox(
        channel="test",
        open_session=open_session,
        process=process,
        chat_of=lambda p: str(p["chat"]),
        **{"idle_check": 0.05, **options},
    )


async def _until(done: Callable[[], bool]) -> None:
    for _ in range(200):
        if done():
            return
        await asyncio.sleep(0.02)


async def _stop(*tasks: asyncio.Task[None]) -> None:
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_two_workers_share_what_a_crash_left_and_handle_each_update_once(
    open_session,
) -> None:
    handled: list[tuple[str, int]] = []

    async def process(payload: dict[str, Any], _parsed: object) -> bool:
        await asyncio.sleep(0.001)
        handled.append((payload["chat"], payload["n"]))
        return False

    with transaction(open_session) as session:  # stored by a worker that died before handling
        for n in range(30):
            payload = {"chat": f"c{n % 3}", "n": n}
            store_inbox(session, channel="test", delivery_id=f"u{n:03d}", payload=payload, at=NOW)

    async def main() -> None:
        first, second = _inbox(open_session, process, batch=5), _inbox(open_session, process)
        tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
        assert not await second.put("u000", {"chat": "c0", "n": 0}), "a resend is stored once"
        await _until(lambda: len(handled) >= 30)
        await _stop(*tasks)

    asyncio.run(main())
    assert sorted(n for _chat, n in handled) == list(range(30)), "each update exactly once"


def test_an_update_goes_from_storing_to_the_handlers_after_what_a_crash_left(
    open_session,
) -> None:
    """The worker that stores an update handles it at once (no sweep in between), after the
    chat's older updates a crash left unhandled; each chat keeps its order while chats go in
    parallel."""
    handled: list[tuple[str, int]] = []

    async def process(payload: dict[str, Any], _parsed: object) -> bool:
        await asyncio.sleep(0.01 if payload["n"] % 2 else 0)  # uneven work must not reorder
        handled.append((payload["chat"], payload["n"]))
        return False

    with transaction(open_session) as session:
        for n in range(4):
            payload = {"chat": f"c{n % 2}", "n": n}
            store_inbox(session, channel="test", delivery_id=f"u{n:03d}", payload=payload, at=NOW)

    async def main() -> None:
        inbox = _inbox(open_session, process, idle_check=3600)  # one sweep, at the start
        task = asyncio.create_task(inbox.run())
        for n in range(4, 20):
            assert await inbox.put(f"u{n:03d}", {"chat": f"c{n % 2}", "n": n})
            with open_session() as session:
                stored = session.get(InboxUpdate, ("test", f"u{n:03d}"))
                assert stored is not None
                assert stored.claimed_until is not None, "held by this worker once stored"
        await _until(lambda: len(handled) >= 20)
        await inbox.drain()  # the last ones' marks, written after `process` returned
        await _stop(task)

    asyncio.run(main())
    for chat in ("c0", "c1"):
        numbers = [n for c, n in handled if c == chat]
        assert numbers == sorted(numbers), chat
        assert len(numbers) == 10
    assert all(row.handled_at is not None for row in rows(open_session, InboxUpdate))


def test_the_handlers_take_an_update_by_marking_it_handled_with_its_change(
    open_session, config
) -> None:
    """The inbox row is marked in the transaction of the change, and that mark is the guard:
    an update taken again (another worker, once the first one's lease ran out) or one the
    inbox set aside is not handled; a delivery that never came through the inbox is
    remembered among the deliveries seen instead."""
    from handlers.dispatch import handle_queued
    from models.enums import ChatKind
    from models.messages import Inbound
    from models.queue import mark_inbox_handled
    from models.tables import SeenDelivery

    with transaction(open_session) as session:
        for delivery in ("41", "42"):
            store_inbox(session, channel="test", delivery_id=delivery, payload={}, at=NOW)
        mark_inbox_handled(session, channel="test", delivery_id="42", at=NOW, error="unreadable")

    def handle(delivery: str) -> list[object]:
        inbound = Inbound(
            channel="test",
            chat_id="c1",
            chat_kind=ChatKind.PRIVATE,
            sender_id="s1",
            sender_name="Thu Hà",
            text="/help",
            delivery_id=delivery,
            received_at=NOW,
        )
        return list(handle_queued(inbound, open_session=open_session, config=config))

    assert handle("41"), "a new update is answered"
    assert all(row.handled_at is not None for row in rows(open_session, InboxUpdate))
    assert handle("41") == [], "an update handled before is not handled twice"
    assert handle("42") == [], "nor one the inbox set aside"
    assert rows(open_session, SeenDelivery) == [], "the inbox's mark is the only record"
    assert handle("43"), "a delivery from outside the inbox is answered"
    assert handle("43") == [], "once"
    assert [d.delivery_id for d in rows(open_session, SeenDelivery)] == ["43"]


def test_an_update_an_older_version_handled_but_left_unmarked_is_marked_by_the_upgrade(
    engine, open_session
) -> None:
    """Older versions guarded by the deliveries seen and marked the inbox after: the upgrade
    marks what they handled, so it is not taken for new."""
    from alembic import command

    from models.db import alembic_config
    from models.queue import record_delivery

    command.downgrade(alembic_config(engine), "0010")
    with transaction(open_session) as session:
        for delivery in ("41", "42"):
            store_inbox(session, channel="test", delivery_id=delivery, payload={}, at=NOW)
        record_delivery(session, channel="test", delivery_id="42", at=NOW)
    command.upgrade(alembic_config(engine), "head")
    handled = {row.delivery_id: row.handled_at for row in rows(open_session, InboxUpdate)}
    assert handled == {"41": None, "42": NOW}


def test_a_batch_with_resends_stores_and_hands_over_only_the_new_updates(open_session) -> None:
    handled: list[int] = []

    async def process(payload: dict[str, Any], _parsed: object) -> bool:
        handled.append(payload["n"])
        return False

    async def main() -> list[bool]:
        inbox = _inbox(open_session, process, idle_check=3600)
        task = asyncio.create_task(inbox.run())
        assert await inbox.put("u1", {"chat": "c", "n": 1})
        stored = await inbox.put_many([(f"u{n}", {"chat": "c", "n": n}, None) for n in (2, 1, 3)])
        await _until(lambda: len(handled) >= 3)
        await _stop(task)
        return stored

    assert asyncio.run(main()) == [True, False, True]
    assert handled == [1, 2, 3], "the resend is not handled again"
