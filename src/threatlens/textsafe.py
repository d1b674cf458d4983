r"""Make log text safe to show on a terminal: control characters become visible escapes.

C0 controls, DEL, C1 controls, Unicode bidi/format overrides, lone surrogates and the invisible
tag characters (U+E0000-E007F) are replaced by ``\xHH`` or
``\u{HHHH}`` text, so a hostile log line can neither move the cursor, change colours, nor
reorder what the reader sees. Markup safety is the renderer's job: pass the result as plain text.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb\t\n"
    "\ud800-\udfff\U000e0000-\U000e007f]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x09:
        return "\\t"
    if code == 0x0A:
        return "\\n"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{{{code:04x}}}"


def visible(text: str) -> str:
    """``text`` with every control or bidi character replaced by a visible escape."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text
