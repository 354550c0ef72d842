"""`/web`: a one-time link that signs this officer in to the web board (no password: the
messenger account is the identity)."""

from __future__ import annotations

from handlers.context import Context
from models.messages import Reply
from models.web_access import create_login_link


def web_link(ctx: Context, args: str = "") -> list[Reply]:
    """A sign-in link valid once, for 15 minutes."""
    _ = ctx.t
    if ctx.config.web_base_url is None:
        return [
            ctx.reply(
                _(
                    "The web board has no public address yet: the administrator sets BOT_PUBLIC_BASE_URL (or prints a link with `python -m bot login-link`)."
                )
            )
        ]
    token = create_login_link(ctx.session, officer=ctx.linked_officer, now=ctx.now)
    url = f"{ctx.config.web_base_url.rstrip('/')}/login/{token}"
    return [
        ctx.reply(
            _(
                "Your link to the web board, for you only: it works once, within 15 minutes.\n{url}",
                url=url,
            )
        )
    ]
