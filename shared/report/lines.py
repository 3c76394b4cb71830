"""One line of caller text: AWS's free text flattened, masked and cut, and the last-resort
cut of a whole message to its 4 KB (the byte counting itself is shared/text.py)."""

from __future__ import annotations

import re

from shared.text import MAX_MESSAGE_BYTES, cut, mask_secrets, printed_size

SECTION_SEPARATOR = " | "


LOG_LINE_SEPARATOR = " // "


# Terraform prints the payload JSON-escaped on one line: a newline would show as "\n",
# so sections are joined with " | " and log lines with " // ".
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def clean(text: str | None, limit: int) -> str:
    """Free text read from AWS (messages, reasons, events): credentials masked, then
    :func:`one_line`. Names and ids are not masked: a cluster named ``secrets:`` stays."""
    return one_line(mask_secrets(text) if text else text, limit)


def one_line(text: str | None, limit: int) -> str:
    """One line, no control characters, at most ``limit`` bytes as printed (shared/text.py:
    emoji and CJK count as the runtime prints them)."""
    if not text:
        return ""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return cut(flat, limit + 2)  # printed_size counts the JSON quotes; ``limit`` does not


def squeeze(head: list[str], body: list[str], tail: list[str]) -> str:
    """Last resort: cut the middle so that head (what failed) and tail (rollback, link) stay.

    Head and tail are cut first, to 1.5 KB and 1 KB (they are shorter unless CodeDeploy's own
    words are huge); the body gets the room left, measured as printed.
    """
    marker = " [cut to fit 4 KB]"
    head_text = cut(SECTION_SEPARATOR.join(head), MAX_MESSAGE_BYTES * 3 // 8)
    tail_text = cut(SECTION_SEPARATOR.join(tail), MAX_MESSAGE_BYTES // 4, keep="end")
    parts = [head_text, "", tail_text]
    room = MAX_MESSAGE_BYTES - printed_size(SECTION_SEPARATOR.join(parts)) - printed_size(marker)
    middle = cut(SECTION_SEPARATOR.join(body), room + 4, marker="") if room > 0 else ""
    return SECTION_SEPARATOR.join([head_text, middle + marker, tail_text])
