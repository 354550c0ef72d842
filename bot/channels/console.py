"""The terminal channel: a chat as the account NAME, with numbered menus like Zalo.

Works with a terminal or with piped input, so a conversation can be scripted.
"""

from __future__ import annotations

import logging
import mimetypes
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.channels import numbered_menu
from handlers.context import HandlerConfig
from handlers.dispatch import handle
from locales import Translator
from models.db import SessionFactory
from models.messages import Attachment, Inbound, Reply

CHANNEL = "console"
ATTACH_COMMANDS = ("/attach", "/dinhkem")

log = logging.getLogger(__name__)


def read_attachment(path_text: str) -> Attachment:
    """A file from disk, as a messenger would deliver a photo or document."""
    path = Path(path_text.strip().strip('"')).expanduser()
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    kind = "photo" if content_type.startswith("image/") else "document"
    return Attachment(
        kind=kind, file_name=path.name, content_type=content_type, data=path.read_bytes()
    )


class ConsoleChat:
    """One person chatting through stdin/stdout as the chat account `user`."""

    def __init__(
        self,
        *,
        user: str,
        open_session: SessionFactory,
        config: HandlerConfig,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        downloads: Path = Path("data/received"),
    ) -> None:
        self.user = user
        self.downloads = downloads
        self.open_session = open_session
        self.config = config
        self.stdin = stdin
        self.stdout = stdout
        self.clock = clock
        self.language = config.default_language

    def run(self) -> None:
        """Read lines until end of input, answering each."""
        interactive = self.stdin.isatty()
        while True:
            if interactive:
                self.stdout.write("> ")
                self.stdout.flush()
            line = self.stdin.readline()
            if not line:
                break
            line = line.rstrip("\n")
            if not interactive:
                self.stdout.write(f"> {line}\n")
            if line.strip():
                self.show(self.send(line))

    def send(self, line: str) -> list[Reply]:
        """Turn one typed line into an `Inbound` and return the bot's replies."""
        text = line
        attachments: tuple[Attachment, ...] = ()
        command, _sep, rest = line.strip().partition(" ")
        if command.lower() in ATTACH_COMMANDS:
            try:
                attachments = (read_attachment(rest),)
            except OSError as error:
                _ = Translator(self.language, self.config.zone)
                self.notice(
                    _("Cannot read the file: {reason}", reason=error.strerror or str(error))
                )
                return []
            text = ""
        typed = numbered_menu.read_typed(
            self.open_session, channel=CHANNEL, chat_id=self.user, text=text
        )
        inbound = Inbound(
            channel=CHANNEL,
            chat_id=self.user,
            sender_id=self.user,
            sender_name=self.user,
            text="" if typed.choice else text,
            choice=typed.choice,
            wrong_number=typed.wrong_number,
            attachments=attachments,
            delivery_id=uuid.uuid4().hex,
            received_at=self.clock(),
        )
        try:
            replies = handle(inbound, open_session=self.open_session, config=self.config)
        except Exception:
            # The delivery's transaction was rolled back: nothing saved has changed.
            log.exception("could not handle a message from %s", self.user)
            _ = Translator(self.language, self.config.zone)
            self.notice(
                _("Sorry, something went wrong and nothing was changed. Please try again.")
            )
            return []
        if replies:
            self.language = replies[-1].language
        return replies

    def _keep(self, attachment: Attachment) -> Path:
        """A file the bot sent (chart, spreadsheet), saved where the person can open it."""
        self.downloads.mkdir(parents=True, exist_ok=True)
        path = self.downloads / Path(attachment.file_name).name
        path.write_bytes(attachment.data)
        return path

    def notice(self, text: str) -> None:
        """A message from the terminal itself, not the bot; the last menu stays as it was."""
        self.stdout.write(f"{text}\n\n")
        self.stdout.flush()

    def show(self, replies: list[Reply]) -> None:
        """Print the bot's replies; the last one's numbered menu becomes the current one."""
        if not replies:
            return
        menu = numbered_menu.RenderedMenu(text="", numbered=[])
        for reply in replies:
            menu = numbered_menu.render(reply)
            self.stdout.write(menu.text + "\n\n")
            for attachment in reply.attachments:
                self.stdout.write(f"📎 {self._keep(attachment)}\n\n")
        self.stdout.flush()
        numbered_menu.remember(
            self.open_session, channel=CHANNEL, chat_id=self.user, menu=menu, at=self.clock()
        )
