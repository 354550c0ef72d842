"""The offline demo as a newcomer runs it, and the catalogs every message goes through."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from babel.messages.pofile import read_po
from sqlalchemy import Engine
from sqlmodel import SQLModel

from locales import LANGUAGES, Translator, catalog_path
from locales.catalogs import extract_messages
from models.db import alembic_config, head_revision, migrate, schema_revision
from tests.conftest import ROOT, ZONE


def test_the_demo_seeds_quang_ninh_and_takes_a_scripted_report(tmp_path: Path) -> None:
    script = "/nhiemvu\n/baocao NV-03 40% Đã tổ chức hội nghị triển khai\n/sua\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("BOT_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Bản dùng thử tỉnh Quảng Ninh: 59 đơn vị, 10 nhiệm vụ" in out
    assert "Nguyễn Thu Hà, cán bộ Phường Hạ Long" in out
    assert "Nhiệm vụ của Phường Hạ Long" in out
    assert "🔴 NV-01" in out, "the demo shows an overdue task"
    assert "Đã lưu ✅" in out
    assert "Bạn muốn sửa báo cáo gần nhất của nhiệm vụ nào?" in out
    assert (tmp_path / "data" / "demo.db").exists()
    again = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input="/nhiemvu\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert "10 nhiệm vụ" in again.stdout, "a second start reuses the demo database"
    assert "🔵 NV-03" in again.stdout
    assert "40%" in again.stdout


def test_every_message_in_the_code_has_a_vietnamese_translation() -> None:
    used = {m.id for m in extract_messages() if m.id}
    assert len(used) > 150
    for language in LANGUAGES:
        with catalog_path(language).open("rb") as po:
            catalog = read_po(po, locale=language)
        missing = sorted(str(m) for m in used if m not in catalog or not catalog[m].string)
        assert not missing, f"{language}: run `python -m locales` and translate: {missing[:5]}"
        for message in catalog:
            if message.id:
                wanted = set(re.findall(r"\{(\w+)\}", str(message.id)))
                assert set(re.findall(r"\{(\w+)\}", str(message.string))) == wanted, message.id


def test_dates_and_numbers_in_vietnamese_style() -> None:
    from datetime import UTC, date, datetime

    vi, en = Translator("vi", ZONE), Translator("en", ZONE)
    assert vi.date(date(2026, 11, 23)) == "23/11/2026"
    assert vi.number(1234.5) == "1.234,5"
    assert en.number(1234.5) == "1,234.5"
    assert vi.datetime(datetime(2026, 11, 23, 1, 5, tzinfo=UTC)) == "08:05 23/11/2026"
    assert Translator("fr", ZONE).language == "vi"


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    migrate(engine)  # a second run is a no-op
    # The bot skips loading alembic when the database is at the head read from the files.
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head_revision() == head == schema_revision(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
