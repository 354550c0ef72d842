"""The inbox: stored before acknowledged, handled once, in order per chat, by any worker."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bot.inbox import Inbox


def test_two_workers_handle_each_update_once_and_each_chat_in_order(open_session) -> None:
    handled: list[tuple[str, int]] = []

    async def process(payload: dict[str, Any]) -> None:
        await asyncio.sleep(0.001)
        handled.append((payload["chat"], payload["n"]))

    def worker() -> Inbox:
        return Inbox(
            channel="test",
            open_session=open_session,
            process=process,
            chat_of=lambda p: str(p["chat"]),
            batch=5,
            idle_check=0.05,
        )

    async def main() -> None:
        first, second = worker(), worker()
        for n in range(30):
            assert await first.put(f"u{n:03d}", {"chat": f"c{n % 3}", "n": n})
        assert not await second.put("u000", {"chat": "c0", "n": 0}), "a resend is stored once"
        tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
        for _ in range(200):
            if len(handled) >= 30:
                break
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(main())
    assert sorted(n for _chat, n in handled) == list(range(30)), "each update exactly once"


def test_one_worker_keeps_each_chats_order_while_chats_go_in_parallel(open_session) -> None:
    handled: list[tuple[str, int]] = []

    async def process(payload: dict[str, Any]) -> None:
        await asyncio.sleep(0.01 if payload["n"] % 2 else 0)  # uneven work must not reorder
        handled.append((payload["chat"], payload["n"]))

    async def main() -> None:
        inbox = Inbox(
            channel="test",
            open_session=open_session,
            process=process,
            chat_of=lambda p: str(p["chat"]),
            idle_check=0.05,
        )
        for n in range(20):
            await inbox.put(f"u{n:03d}", {"chat": f"c{n % 2}", "n": n})
        task = asyncio.create_task(inbox.run())
        for _ in range(200):
            if len(handled) >= 20:
                break
            await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    for chat in ("c0", "c1"):
        numbers = [n for c, n in handled if c == chat]
        assert numbers == sorted(numbers), chat
        assert len(numbers) == 10


def test_the_handlers_mark_an_update_handled_with_its_change_even_one_seen_before(
    open_session, config
) -> None:
    """The inbox row is marked in the transaction of the change; a delivery already handled
    (its mark lost) is marked too, not offered again after every lease."""
    from handlers.dispatch import handle_queued
    from models.db import transaction
    from models.enums import ChatKind
    from models.messages import Inbound
    from models.queue import record_delivery, store_inbox
    from models.tables import InboxUpdate
    from tests.conftest import NOW, rows

    with transaction(open_session) as session:
        for delivery in ("41", "42"):
            store_inbox(session, channel="test", delivery_id=delivery, payload={}, at=NOW)
        record_delivery(session, channel="test", delivery_id="42", at=NOW)

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

    assert handle("41"), "a new delivery is answered"
    assert handle("42") == [], "a delivery seen before is not handled twice"
    assert all(row.handled_at is not None for row in rows(open_session, InboxUpdate))
