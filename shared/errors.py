"""Exceptions a caller sees.

Lambda turns an uncaught exception into ``{"errorType": <class name>,
"errorMessage": str(exc)}`` and Terraform prints that payload, so class names
are public API and each message carries everything a person needs on one
screen.
"""

from __future__ import annotations

from shared.text import MAX_MESSAGE_BYTES, cut

CUT_NOTE = " ... [cut to fit 4 KB]"


class CodeDeployTriggerError(Exception):
    """Base class of every error this project raises on purpose.

    The message is cut to :data:`~shared.text.MAX_MESSAGE_BYTES` as the Lambda runtime prints
    it, whatever it holds: the last cut, after each message built its own parts to fit.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(cut(str(message), MAX_MESSAGE_BYTES, marker=CUT_NOTE))


class ConfigurationError(CodeDeployTriggerError):
    """An environment variable of the function is missing or malformed."""


class InvalidInput(CodeDeployTriggerError):
    """The invocation payload breaks the input contract; nothing was created.

    ``field`` is the offending member's path (``revision.s3Location.key``), for tests and logs;
    the message already names it for people.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class CodeDeployError(CodeDeployTriggerError):
    """A CodeDeploy API call was rejected; the message keeps CodeDeploy's words."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class ActiveDeploymentConflict(CodeDeployError):
    """The deployment group already runs a deployment (DeploymentLimitExceeded)."""

    def __init__(self, message: str, *, active_deployment_id: str | None) -> None:
        super().__init__(message, code="DeploymentLimitExceededException")
        self.active_deployment_id = active_deployment_id


class StatusTableUnavailable(CodeDeployTriggerError):
    """The status table could not answer a history query (no index, access denied...)."""


class DeploymentFailed(CodeDeployTriggerError):
    """The deployment ended Failed or Stopped."""


class DeploymentWaitTimeout(CodeDeployTriggerError):
    """The function ran out of time before the deployment ended; it keeps running."""
