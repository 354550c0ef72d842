"""Bodies an attacker (or a broken proxy) sends a webhook: none of them is an update."""

from __future__ import annotations

import urllib.error
import urllib.request

HOSTILE_BODIES: dict[str, bytes] = {
    "not JSON": b"<xml>hello</xml>",
    "invalid UTF-8": b'{"update_id": 1, "x": "\xff\xfe"}',
    "a list": b"[1, 2, 3]",
    "a string": b'"update"',
    "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "a number JSON has no room for": b'{"update_id": 1e309, "message": {}}',
    "NaN": b'{"update_id": NaN}',
    "a string where an object belongs": b'{"update_id": 5, "message": "hello", '
    b'"event_name": "message.text.received"}',
    "an object without what an update has": b'{"hello": "world"}',
    "empty": b"",
}
TOO_LARGE = b'{"update_id": 1, "padding": "' + b"x" * (2 * 1024 * 1024) + b'"}'


def post_bytes(url: str, body: bytes, *, header: str, secret: str) -> tuple[int, str]:
    """The status and body of the answer to `body`."""
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Content-Type": "application/json", header: secret},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode(errors="replace")
