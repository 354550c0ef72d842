"""The baseline of the chat benchmark: a bare aiogram bot that answers every message with one
message and every button with an edit, buttons included, and nothing else (no database).

    BARE_TOKEN=… BARE_API_BASE=http://127.0.0.1:PORT python benchmarks/bare_aiogram_bot.py
"""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [InlineKeyboardButton(text=label, callback_data=f"choice:{index}")]
        for index, label in enumerate(("Đang thực hiện", "Hoàn thành", "◀ Quay lại", "✖ Hủy"))
    ]
)

dispatcher = Dispatcher()


@dispatcher.message()
async def on_message(message: Message) -> None:
    await message.answer(f"Đã nhận: {message.text}", reply_markup=KEYBOARD)


@dispatcher.callback_query()
async def on_button(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(f"Đã chọn {query.data}", reply_markup=KEYBOARD)


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["BARE_API_BASE"]))
    bot = Bot(token=os.environ["BARE_TOKEN"], session=session)
    await dispatcher.start_polling(bot, polling_timeout=1)


if __name__ == "__main__":
    asyncio.run(main())
