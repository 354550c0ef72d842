"""`python -m bot`: the secretariat's commands, the terminal chat and the offline demo.

Command names and options are a contract: scripts and the secretariat's automation call them.
Each module declares a group of commands on the one Typer app of `bot.cli.common`.
"""

from __future__ import annotations

import sys

from bot.cli import people, province, service, task_list
from bot.cli.common import cli

COMMAND_MODULES = (province, task_list, people, service)


def main() -> None:
    """Entry point of `python -m bot`."""
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
