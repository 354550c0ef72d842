"""The layers of ARCHITECTURE.md, checked on the source: imports point downward only, the
conversations never see a messenger library, and channel adapters only translate."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

OURS = ("bot", "handlers", "models", "reminders", "locales")
MAY_IMPORT = {
    "models": {"models"},
    "locales": {"locales"},
    "reminders": {"reminders", "models", "locales"},
    "handlers": {"handlers", "models", "locales", "reminders"},
    "bot": set(OURS),
}
MESSENGER_LIBRARIES = {"aiogram", "httpx", "aiohttp"}


def imports_of(package: str) -> dict[Path, set[str]]:
    """Every module each file of `package` imports (top-level names), anywhere in the file."""
    found: dict[Path, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[path] = names
    return found


def test_imports_point_downward_only() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package, allowed in MAY_IMPORT.items()
        for path, names in imports_of(package).items()
        for name in names
        if name.split(".")[0] in OURS and name.split(".")[0] not in allowed
    ]
    assert wrong == []


def test_conversations_and_reminders_never_touch_a_messenger_library() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package in ("handlers", "reminders", "models")
        for path, names in imports_of(package).items()
        for name in names
        if name.split(".")[0] in MESSENGER_LIBRARIES
    ]
    assert wrong == []


def test_channel_adapters_do_not_write_the_outbox() -> None:
    """Adapters translate; what is queued is decided by handlers and reminders."""
    for path in (ROOT / "bot" / "channels").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "enqueue(" not in source, path.name
        assert "Outbox(" not in source, path.name
