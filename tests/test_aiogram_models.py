"""aiogram's Telegram types are built when first used (`bot.aiogram_models`), each as aiogram's
own import would build it. Every check runs in a fresh interpreter: which models are built
depends on what the process imported first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

STICKER = {
    "file_id": "f",
    "file_unique_id": "u",
    "type": "regular",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
    "thumbnail": {"file_id": "t", "file_unique_id": "tu", "width": 128, "height": 128},
}


def run(script: str) -> Any:
    """What `script` (ending with an expression printed as JSON) says in a new process."""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_bot_builds_only_the_telegram_models_its_channel_uses() -> None:
    built = run(
        "import json, bot.channels.telegram\n"
        "from aiogram.methods import SendSticker\n"
        "from aiogram.types import Message, Sticker, Update\n"
        "print(json.dumps([m.__name__ for m in (Update, Message, Sticker, SendSticker)"
        " if m.__pydantic_complete__]))"
    )
    assert built == ["Update"]  # Message only inside Update's validator; the rest not at all


def test_a_model_left_unbuilt_is_built_on_its_first_use_with_the_names_it_refers_to() -> None:
    # Sticker names PhotoSize, SendSticker names the keyboards, neither is imported by the
    # modules that declare them: resolved from aiogram's namespace, handed over on import.
    used = run(
        "import json, bot\n"
        "from aiogram.methods import SendSticker\n"
        "from aiogram.methods.base import Response\n"
        "from aiogram.types import ForceReply, Sticker\n"
        f"sticker = Sticker.model_validate({STICKER!r})\n"
        "send = SendSticker(chat_id=1, sticker='f', reply_markup=ForceReply())\n"
        "answer = Response[list[Sticker]].model_validate({'ok': True, 'result': [sticker]})\n"
        "print(json.dumps([type(sticker.thumbnail).__name__, sticker.thumbnail.width,"
        " send.model_dump(exclude_none=True)['reply_markup'], len(answer.result)]))"
    )
    assert used == ["PhotoSize", 128, {"force_reply": True}, 1]


def test_the_models_built_late_are_the_ones_aiogram_builds_at_import() -> None:
    schemas = (
        "import json\n"
        "from aiogram.methods import SendMessage\n"
        "from aiogram.types import Message, Sticker, Update\n"
        "print(json.dumps([m.model_json_schema() for m in (Update, Message, Sticker,"
        " SendMessage)]))"
    )
    deferred = run("import bot\n" + schemas)
    as_aiogram_builds = run("import aiogram, bot\n" + schemas)  # aiogram first: no deferring
    assert deferred == as_aiogram_builds
