"""Text that leaves the function: credentials masked, cut to a size as it is printed.

Every error message ends up in three places: Terraform's output, the function's log group and
the invocation's X-Ray fault. The Lambda Python runtime (awslambdaric, ``bootstrap.py``:
``handle_event_request``) turns an uncaught exception into ``{"errorMessage": str(exc), ...}``,
writes it to the log (``log_error``) and posts it, with the X-Ray fault (``make_xray_fault``),
as JSON (``lambda_runtime_marshaller.to_json``); Terraform prints that JSON verbatim. So what a
message holds is logged, and its size is its size as JSON.

The runtime's JSON encoder (simplejson) keeps non-ASCII characters as they are
(``ensure_ascii=False``) on python3.12 and later, and escapes them as ``\\uXXXX`` on older
runtimes: one emoji is 4 bytes in the first form and 12 in the second. :func:`printed_size`
measures both and :func:`cut` is the one helper that cuts any message, id or name to a bound
in that measure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from typing import Literal

MAX_MESSAGE_BYTES = 4000
"""Every error message, as printed (a JSON string, quotes included), stays within 4 KB."""
MASK = "[masked]"
"""What stands in place of a credential found in text shown to people."""
CUT_MARKER = "..."


def printed_size(text: str) -> int:
    """Bytes of ``text`` as a JSON string, quotes included: the larger of the Lambda runtime's
    two encodings (non-ASCII kept as UTF-8, or escaped as ``\\uXXXX``)."""
    escaped = json.dumps(text)
    kept = json.dumps(text, ensure_ascii=False)
    return max(len(escaped), len(kept.encode("utf-8", errors="surrogatepass")))


def cut(
    text: str,
    max_bytes: int,
    *,
    keep: Literal["start", "end"] = "start",
    marker: str = CUT_MARKER,
) -> str:
    """``text`` if its :func:`printed_size` is at most ``max_bytes``; otherwise its start (or
    its end) with ``marker`` where the rest was, the whole within ``max_bytes``."""
    if printed_size(text) <= max_bytes:
        return text
    room = max_bytes - printed_size(marker)
    chars: Iterable[str] = text if keep == "start" else reversed(text)
    kept: list[str] = []
    for char in chars:
        room -= _char_size(char)
        if room < 0:
            break
        kept.append(char)
    if keep == "start":
        return "".join(kept) + marker
    return marker + "".join(reversed(kept))


def _char_size(char: str) -> int:
    """Bytes one character adds to :func:`printed_size` (the ``\\uXXXX`` form is never
    shorter than UTF-8, so it is the measure)."""
    code = ord(char)
    if 0x20 <= code < 0x7F:
        return 2 if char in '"\\' else 1
    if code < 0x20:
        return 2 if char in "\b\f\n\r\t" else 6
    return 12 if code > 0xFFFF else 6  # DEL (0x7F) is escaped too


def names_list(names: list[str], *, first: int = 10, max_name_bytes: int = 100) -> str:
    """``a, b, c, and 7 more``: at most ``first`` names, each cut, then how many were left."""
    shown = ", ".join(cut(name, max_name_bytes) for name in names[:first])
    more = len(names) - first
    return f"{shown}, and {more} more" if more > 0 else shown


# --- credentials ---------------------------------------------------------------------------
# Common shapes only: a hook script can print anything, so docs/output-and-errors.md says
# masking is a safety net, and INCLUDE_LOG_TAILS / includeLogTails leave log tails out entirely.

# Sources, compiled on first use (_compiled): a pattern runs only where one of its words occurs,
# so most invocations never compile one, and compiling all seven at import costs about 1 ms.
_PRIVATE_KEY = (
    r"(?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?"
    r"(?:-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)"
)
# A log tail is the end of a log (CodeDeploy keeps its last 4 KB): a key block may have lost
# its BEGIN line. Everything up to an END line left over after the pass above is the key.
_PRIVATE_KEY_END = r"(?s)\A.*?-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"
# IAM user guide, "Manage access keys": long-term access key ids start with AKIA, temporary
# ones (STS) with ASIA, followed by 16 upper-case letters and digits.
_ACCESS_KEY_ID = r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"
_URL_PASSWORD = r"\b([A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]+:)[^\s/@]+@"
_AUTHORIZATION = (
    r"(?i)\b((?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?)"
    r"(?:(bearer|basic|digest|negotiate|token)[ \t]+)?[^\s\"',;]+"
)
_BEARER = r"(?i)\b(bearer)[ \t]+[A-Za-z0-9._~+/=-]+"
# A key whose name holds password, passwd, secret, token or api key (``DB_PASSWORD``,
# ``client_secret``, ``SecretAccessKey``, ``x-api-key``, ``aws_secret_access_key``), then ``=``
# or ``:`` (a JSON key's quotes allowed), then a value: quoted, or up to a space or separator.
# A lower-case letter right after the word means another word (``secretsmanager:``, ``tokenizer``).
_KEY_VALUE = (
    r"((?i:password|passwd|secret|token|api[_-]?key)(?i:s)?(?![a-z])[\w.-]*"
    r"(?:\\?[\"'])?[ \t]*[:=][ \t]*)"
    r"(\\\"(?:[^\"\\]|\\[^\"])*\\\"|\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s\"',;&]+)"
)


@lru_cache(maxsize=256)
def mask_secrets(text: str) -> str:
    """``text`` with common credential shapes replaced by :data:`MASK`: private key blocks,
    AWS access key ids, passwords in URLs, Authorization headers and bearer tokens, and the
    values of password / secret / token / api key settings (``=``, ``:`` and JSON forms).

    Cached: a failure message is fitted to its bound in up to four attempts over the same texts.
    """
    if not text:
        return text
    lowered = text.lower()
    for pattern, replacement, hints in _STEPS:
        # A pattern runs only where one of its words occurs: most text has none of them.
        if any(hint in lowered for hint in hints):
            text = _compiled(pattern).sub(replacement, text)
    return text


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_Replacement = str | Callable[[re.Match[str]], str]


def _authorization(match: re.Match[str]) -> str:
    scheme = f"{match.group(2)} " if match.group(2) else ""
    return f"{match.group(1)}{scheme}{MASK}"


def _key_value(match: re.Match[str]) -> str:
    value = match.group(2)
    quote = next((q for q in ('\\"', '"', "'") if value.startswith(q)), "")
    return f"{match.group(1)}{quote}{MASK}{quote}"


# Each pattern, what replaces a match, and the lower-case words without which it cannot match.
_STEPS: tuple[tuple[str, _Replacement, tuple[str, ...]], ...] = (
    (_PRIVATE_KEY, MASK, ("private key",)),
    (_PRIVATE_KEY_END, MASK, ("private key",)),
    (_URL_PASSWORD, rf"\1{MASK}@", ("://",)),
    (_AUTHORIZATION, _authorization, ("authorization",)),
    (_BEARER, rf"\1 {MASK}", ("bearer",)),
    (_KEY_VALUE, _key_value, ("password", "passwd", "secret", "token", "api")),
    (_ACCESS_KEY_ID, MASK, ("akia", "asia")),
)
