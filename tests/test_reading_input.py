"""What people type, read the way they mean it."""

from __future__ import annotations

import pytest

from handlers.text import parse_command
from locales.text import clean_text, parse_number, parse_percent


@pytest.mark.parametrize(
    ("typed", "percent"),
    [("60", 60), ("60%", 60), (" 60 % ", 60), ("0", 0), ("100", 100), ("62,5", 62), ("99.6", 100)],
)
def test_percentages(typed: str, percent: int) -> None:
    assert parse_percent(typed) == percent


@pytest.mark.parametrize("typed", ["abc", "150", "-5", "", "100.1", "60 phần trăm", "1e3", "٦٠"])
def test_not_percentages(typed: str) -> None:
    assert parse_percent(typed) is None


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("98,5", 98.5),
        ("1.234,5", 1234.5),
        ("1.234", 1234),
        ("1234.5", 1234.5),
        ("1,234.5", 1234.5),
        ("40", 40),
        ("1 200", 1200),
    ],
)
def test_numbers_as_vietnamese_or_english_users_type_them(typed: str, value: float) -> None:
    assert parse_number(typed) == pytest.approx(value)


@pytest.mark.parametrize("typed", ["", "abc", "nan", "inf", "1,2,3.4.5"])
def test_not_numbers(typed: str) -> None:
    assert parse_number(typed) is None


def test_commands_with_bot_names_and_arguments() -> None:
    command = parse_command("/baocao@QuangNinhBot NV-03 60% Đã trình")
    assert command is not None
    assert (command.name, command.args) == ("baocao", "NV-03 60% Đã trình")
    assert parse_command("baocao NV-03") is None
    assert parse_command("/START abc").name == "start"  # type: ignore[union-attr]


def test_clean_text_composes_accents_and_drops_control_characters() -> None:
    assert clean_text("  Đa\u0303 xong\u0000\u200b  ") == "Đã xong"
    assert clean_text("dòng 1\ndòng 2") == "dòng 1\ndòng 2"
