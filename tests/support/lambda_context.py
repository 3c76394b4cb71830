"""A Lambda context whose remaining time follows the (possibly frozen) clock."""

from __future__ import annotations

import time
import uuid

from aws_lambda_powertools.utilities.typing import LambdaContext


class FakeLambdaContext(LambdaContext):
    """Powertools' LambdaContext type, filled in as the Lambda runtime would."""

    def __init__(
        self,
        timeout_seconds: float = 900.0,
        function_name: str = "codedeploy-trigger",
        *,
        account: str = "123456789012",
        region: str = "us-east-1",
    ):
        self.timeout_seconds = timeout_seconds
        # Looked up at call time so that freezegun's clock is the one that counts.
        self.started = time.monotonic()
        self._function_name = function_name
        self._function_version = "$LATEST"
        self._invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self._memory_limit_in_mb = 256
        self._aws_request_id = str(uuid.uuid4())
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))
