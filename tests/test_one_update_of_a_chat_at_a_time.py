"""Two updates of one chat handled at once (two workers, or two processes on PostgreSQL): the
second waits for the first to commit and continues from where it left the conversation, so
neither answer is lost or taken for the answer to the wrong question."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from models.db import transaction
from models.queue import store_inbox
from tests.conftest import NOW, Chat

PAUSE_SECONDS = 0.5  # the first update holds its transaction this long after its first read


@pytest.mark.parametrize("through_inbox", [True, False], ids=["inbox", "handled directly"])
def test_the_second_update_waits_and_answers_the_next_question(
    chat_as, engine: Engine, open_session, config, through_inbox: bool
) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao")
    ha.press("NV-03")
    assert "bao nhiêu phần trăm" in ha.press("Đang thực hiện")
    # The same chat in a second worker.
    twin = Chat(ha.name, open_session=open_session, config=config)
    twin.now = ha.now
    first_read = threading.Event()
    pausing = threading.local()

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _pause_after_reading_the_sender(*args: Any) -> None:
        statement: str = args[2]
        if getattr(pausing, "on", False) and "FROM channelaccount" in statement:
            pausing.on = False
            first_read.set()
            time.sleep(PAUSE_SECONDS)  # the second update arrives meanwhile

    deliveries = [uuid.uuid4().hex, uuid.uuid4().hex]
    if through_inbox:
        with transaction(open_session) as session:
            for delivery in deliveries:
                store_inbox(session, channel="test", delivery_id=delivery, payload={}, at=NOW)
    answers: dict[str, str] = {}
    errors: list[BaseException] = []

    def percent() -> None:
        pausing.on = True
        try:
            ha.send(text="60", delivery_id=deliveries[0])
            answers["percent"] = ha.text
        except BaseException as error:
            errors.append(error)

    def result() -> None:
        try:
            first_read.wait(timeout=10)
            twin.send(text="Đã trình dự thảo kế hoạch", delivery_id=deliveries[1])
            answers["result"] = twin.text
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=percent), threading.Thread(target=result)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    sa.event.remove(engine, "after_cursor_execute", _pause_after_reading_the_sender)

    assert errors == []
    assert first_read.is_set()
    assert "Đã thực hiện được những gì" in answers["percent"]
    assert "khó khăn, vướng mắc" in answers["result"], "the result, as the next answer"
    assert "kiến nghị" in twin.press("Không có vướng mắc")
