"""The revision content's hash: one definition for the contract's check of a given sha256,
the log line describing a request, and the match of an ambiguous CreateDeployment's result.

CodeDeploy's model documents RawString.sha256 and AppSpecContent.sha256 as "The SHA256 hash
value of the revision content": the hex digest of the content's UTF-8 bytes.
"""

from __future__ import annotations

import hashlib


def content_sha256(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()
