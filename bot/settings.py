"""Settings from the environment (prefix `BOT_`), checked once at start."""

from __future__ import annotations

import os
import re
from datetime import date, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError as PydanticSettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from locales import LANGUAGES, N_, Translator


class SettingsError(Exception):
    """A setting is missing or wrong: one line naming the variable and what to fix.

    `message` is a message id (English), worded for the configured language by `describe`.
    """

    def __init__(self, variable: str, message: str, **params: object) -> None:
        super().__init__(f"{variable}: {message.format(**params) if params else message}")
        self.variable = variable
        self.message = message
        self.params = params

    def describe(self, _: Translator) -> str:
        return f"{self.variable}: {_(self.message, **self.params)}"


class SettingProblem(ValueError):
    """Raised by a validator: `message` is a message id, `params` fill it in."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.params = params


# What pydantic's own error types mean to an operator.
_REASONS: dict[str, str] = {
    "int_parsing": N_("a whole number is expected"),
    "int_from_float": N_("a whole number is expected"),
    "float_parsing": N_("a number is expected"),
    "bool_parsing": N_("true or false is expected"),
    "literal_error": N_("use one of: {expected}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "greater_than": N_("must be more than {gt}"),
    "less_than_equal": N_("must be at most {le}"),
    "string_pattern_mismatch": N_("does not have the expected form (see the README)"),
    "date_parsing": N_("a date like 2026-12-31 is expected"),
    "date_from_datetime_parsing": N_("a date like 2026-12-31 is expected"),
    "time_parsing": N_("a time like 08:00 is expected"),
    "list_type": N_('a JSON list is expected, e.g. ["2026-12-31"]'),
    "json_invalid": N_('a JSON list is expected, e.g. ["2026-12-31"]'),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOT_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///data/baocao.db"
    timezone: str = "Asia/Ho_Chi_Minh"
    locale: Literal["vi", "en"] = "vi"
    invite_ttl_days: int = Field(default=14, ge=1, le=365)
    evidence_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # A reply is written with the change it reports; this process sends it at once, and if it
    # dies first, any process sends it once this hold has run out.
    reply_hold_seconds: float = Field(default=30.0, gt=0, le=600)

    # Telegram (BotFather's token; a custom Bot API server, as aiogram supports; webhook secret).
    telegram_token: SecretStr | None = None
    telegram_api_base: str = Field(default="https://api.telegram.org", pattern=r"^https?://\S+$")
    telegram_username: str | None = Field(default=None, pattern=r"^@?[A-Za-z0-9_]{3,64}$")
    telegram_request_timeout: float = Field(default=30.0, gt=0, le=300)
    telegram_polling_timeout: int = Field(default=25, ge=0, le=50)
    webhook_secret: SecretStr | None = None
    telegram_typing_after: float = Field(
        default=1.0, ge=0
    )  # "typing…" once a reply takes this long
    # Telegram's published limits; the tests run them faster.
    telegram_per_chat_interval: float = Field(default=1.0, ge=0)
    telegram_group_per_minute: int = Field(default=20, ge=1)
    telegram_global_per_second: int = Field(default=30, ge=1)

    # Zalo (Zalo Bot Platform): token in the URL path, so it is scrubbed from logs and errors.
    zalo_token: SecretStr | None = None
    zalo_api_base: str = Field(
        default="https://bot-api.zaloplatforms.com", pattern=r"^https?://\S+$"
    )
    zalo_webhook_secret: SecretStr | None = None
    zalo_polling_timeout: int = Field(default=30, ge=1, le=60)
    zalo_request_timeout: float = Field(default=30.0, gt=0, le=300)
    zalo_per_chat_interval: float = Field(default=1.0, ge=0)
    zalo_global_per_second: int = Field(default=10, ge=1)
    zalo_group_per_minute: int = Field(default=20, ge=1)
    zalo_typing_after: float = Field(default=1.0, ge=0)  # "typing…" once a reply takes this long
    # The web board: served by `run` when this is true, or (unset) when webhooks or --web are.
    web_enabled: bool | None = None
    # Signs the board's session cookie; without it, one is made at start (sessions then end
    # when the process restarts, and several processes cannot share them).
    web_secret_key: SecretStr | None = None
    # Where this bot is reachable from outside (https://…): Zalo takes photos only by URL.
    public_base_url: str | None = Field(default=None, pattern=r"^https?://\S+$")

    # Reminders, escalations and digests. Several workers may share a database: the outbox keeps
    # them from sending twice, but the scheduler can be switched off on some of them.
    scheduler_enabled: bool = True
    reminder_days_before: list[int] = Field(default=[7, 3, 1, 0])  # working days; 0: that morning
    overdue_nudges: int = Field(default=3, ge=0, le=20)  # daily, then the unit lead is told
    reminder_grace_minutes: int = Field(default=120, ge=1)  # later than this: skipped, not sent
    reminder_interval_seconds: int = Field(default=60, ge=1)
    digest_days: str = Field(
        default="mon,thu",
        pattern=r"^(mon|tue|wed|thu|fri|sat|sun)(,(mon|tue|wed|thu|fri|sat|sun))*$",
    )
    digest_time: time = time(8, 0)
    workday_start: time = time(8, 0)
    workday_end: time = time(17, 0)
    extra_days_off: list[date] = Field(default_factory=list)  # e.g. ["2026-12-31"]
    working_saturdays: list[date] = Field(
        default_factory=list
    )  # Saturdays swapped into working days

    @field_validator("reminder_days_before")
    @classmethod
    def _days_are_sensible(cls, value: list[int]) -> list[int]:
        if any(day < 0 or day > 60 for day in value):
            raise SettingProblem(N_("working days before the deadline, each from 0 to 60"))
        return sorted(set(value), reverse=True)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingProblem(
                N_("unknown time zone '{zone}' (the province's is Asia/Ho_Chi_Minh)"), zone=value
            ) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _parsable_url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError:
            raise SettingProblem(
                N_(
                    "not a database URL (e.g. sqlite:///data/baocao.db or postgresql+psycopg://user:password@host/db)"
                )
            ) from None
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret_alphabet(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and -.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise SettingProblem(N_("use 1 to 256 letters, digits, '_' or '-'"))
        return value

    @field_validator("zalo_webhook_secret")
    @classmethod
    def _zalo_secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        # The Zalo Bot Platform takes a secret_token of 8 to 256 characters.
        if value is not None and not 8 <= len(value.get_secret_value()) <= 256:
            raise SettingProblem(N_("use 8 to 256 characters (Zalo's rule for secret_token)"))
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings() -> Settings:
    """Read the settings, or raise `SettingsError` naming the first bad variable."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        variable = f"BOT_{str(first['loc'][0]).upper()}" if first["loc"] else "BOT_?"
        # The message names the variable, never echoes its value (it may be a secret).
        problem = (first.get("ctx") or {}).get("error")
        if isinstance(problem, SettingProblem):
            raise SettingsError(variable, problem.message, **problem.params) from None
        reason = _REASONS.get(first["type"])
        if reason is not None:
            raise SettingsError(variable, reason, **(first.get("ctx") or {})) from None
        raise SettingsError(variable, first["msg"]) from None
    except PydanticSettingsError as error:
        # A list setting that is not JSON: pydantic-settings names the field in its message.
        found = re.search(r'field "(\w+)"', str(error))
        variable = f"BOT_{found.group(1).upper()}" if found else "BOT_…"
        raise SettingsError(variable, _REASONS["json_invalid"]) from None


def language_of_environment() -> str:
    """The language of the command line: the settings', or, when they cannot be read (their
    error is to be told in it), BOT_LOCALE's; Vietnamese by default."""
    try:
        return Settings().locale
    except (ValidationError, PydanticSettingsError):
        wanted = os.environ.get("BOT_LOCALE", "").strip().lower()[:2]
        return wanted if wanted in LANGUAGES else "vi"


def require_telegram_token(settings: Settings) -> str:
    """The bot token, or `SettingsError` saying where to get one."""
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value().strip():
        raise SettingsError(
            "BOT_TELEGRAM_TOKEN", N_("required for Telegram (create a bot with @BotFather)")
        )
    return settings.telegram_token.get_secret_value().strip()


def require_zalo_token(settings: Settings) -> str:
    if settings.zalo_token is None or not settings.zalo_token.get_secret_value().strip():
        raise SettingsError(
            "BOT_ZALO_TOKEN", N_("required for Zalo (create a bot on the Zalo Bot Platform)")
        )
    return settings.zalo_token.get_secret_value().strip()
