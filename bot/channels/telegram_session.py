"""aiogram's aiohttp session, sending a request's parameters as one JSON body.

aiogram posts every request as an HTML form: each parameter prepared value by value (a
keyboard walked button by button, then encoded to JSON), then the whole form percent-encoded
character by character in pure Python. The Bot API takes an `application/json` body just as
well, and `json.dumps` does all of it in C. A request with a file to upload (or a value JSON
cannot carry) still goes as aiogram's multipart form.
"""

from __future__ import annotations

import datetime
import json
from enum import Enum
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile, TelegramObject
from aiohttp import ClientError, ClientTimeout

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod

JSON_HEADERS = {"Content-Type": "application/json"}
_OMITTED = object()  # a parameter aiogram's form leaves out


class NeedsForm(Exception):
    """A value that only aiogram's form can carry (a file, a nested default)."""


def json_body(bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
    """The method's parameters as aiogram would send them (the bot's defaults filled in, what
    is None or empty left out), as a JSON body; None if a file goes with them."""
    values: dict[str, Any] = {}
    for key, dumped in method.model_dump(warnings=False, exclude_none=True).items():
        value = _top_level(bot, dumped)
        if value is None:
            return None
        if value is not _OMITTED:
            values[key] = value

    def nested(value: object) -> object:
        # In a parameter (a reply's quote_parse_mode, say): a bot default JSON can carry
        # in place; one that is not set must be left out, which aiogram's form does.
        if isinstance(value, Default) and (default := bot.default[value.name]) is not None:
            return (
                default.model_dump(exclude_none=True)
                if isinstance(default, TelegramObject)
                else default
            )
        raise NeedsForm(type(value).__name__)

    try:
        return json.dumps(values, ensure_ascii=False, default=nested).encode()
    except NeedsForm:
        return None


def _top_level(bot: Bot, value: Any) -> Any:
    """A parameter as aiogram's `prepare_value` reads it: `_OMITTED` for what it leaves out,
    None for a file."""
    if isinstance(value, Default):
        value = bot.default[value.name]
        if value is None:
            return _OMITTED
    if isinstance(value, InputFile):
        return None
    if isinstance(value, TelegramObject):  # a bot default may be one
        value = value.model_dump(warnings=False, exclude_none=True)
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime.timedelta):
        value = round((datetime.datetime.now(datetime.UTC) + value).timestamp())
    elif isinstance(value, datetime.datetime):
        value = round(value.timestamp())
    return _OMITTED if value == "" else value  # aiogram's form leaves out an empty text


class JsonSession(AiohttpSession):
    """An `AiohttpSession` whose requests without files go as JSON."""

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        body = json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=body,
                headers=JSON_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as response:
                raw = await response.text()
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(
                method=method, message=f"{type(error).__name__}: {error}"
            ) from error
        checked = self.check_response(
            bot=bot, method=method, status_code=response.status, content=raw
        )
        return cast(TelegramType, checked.result)
