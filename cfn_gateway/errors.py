"""AWS errors as exception classes, one per AWS error code.

Anything below the protocol edge raises one of these; the faultwrap filter renders it in
the request's own wire protocol (Query XML, JSON with ``x-amzn-query-error``, or CBOR).
The class name is the AWS error code unless ``code`` says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class AWSError(Exception):
    """Base of every error a client may see.  Subclasses set ``status`` and ``sender_fault``.

    ``fields``: members of the modeled error shape other than the message, by their AWS
    names (``protocol.wire_errors.extra_fields``), rendered in every protocol.
    """

    status: int = 400
    sender_fault: bool = True
    code: str = ""
    fields: Mapping[str, Any] | None = None

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = cls.__name__

    @property
    def fault_type(self) -> str:
        """``Sender`` or ``Receiver``, as Query errors and ``x-amzn-query-error`` spell it."""
        return "Sender" if self.sender_fault else "Receiver"


# --- Common errors shared by every AWS Query/JSON service -------------------------------

class MissingParameter(AWSError):
    pass


class ValidationError(AWSError):
    pass


class InvalidParameterValue(AWSError):
    pass


class InvalidParameterCombination(AWSError):
    pass


class InvalidQueryParameter(AWSError):
    pass


class MalformedQueryString(AWSError):
    status = 404


class InvalidAction(AWSError):
    pass


class MissingAction(AWSError):
    pass


class MalformedInput(AWSError):
    """Query parameters whose structure contradicts the model (a list index that is no
    number, a list where a scalar belongs, ...)."""


class SerializationException(AWSError):
    """The request body is not well-formed JSON/CBOR for the operation."""


class UnknownOperationException(AWSError):
    """JSON/CBOR target or path names no operation of the service."""


class NotImplemented(AWSError):  # noqa: A001 - the AWS error code is NotImplemented
    """A valid operation of the model that this gateway has no handler for yet."""

    status = 501
    sender_fault = False


class MissingAuthenticationToken(AWSError):
    status = 403


class IncompleteSignature(AWSError):
    pass


class InvalidClientTokenId(AWSError):
    status = 403


class SignatureDoesNotMatch(AWSError):
    status = 403


class RequestExpired(AWSError):
    pass


class RequestTimeout(AWSError):
    """The request body did not arrive within the configured time (``request_body_timeout``)."""


class AccessDenied(AWSError):
    status = 403


class RequestEntityTooLarge(AWSError):
    status = 413


class InternalFailure(AWSError):
    status = 500
    sender_fault = False


class ServiceUnavailable(AWSError):
    status = 503
    sender_fault = False


class NoSuchVersion(AWSError):
    pass


# --- Auto Scaling -------------------------------------------------------------------------

class AlreadyExists(AWSError):
    """A resource of that name exists (the model's AlreadyExistsFault)."""


class ResourceInUse(AWSError):
    """The resource is in use (the model's ResourceInUseFault)."""


class ResourceContention(AWSError):
    """Concurrent updates kept the change from landing (ResourceContentionFault)."""

    status = 500
    sender_fault = False


class ScalingActivityInProgress(AWSError):
    """A scaling activity or cooldown blocks the call (ScalingActivityInProgressFault)."""


# --- CloudWatch alarms --------------------------------------------------------------------

class LimitExceeded(AWSError):
    """The project's alarm quota is reached (the model's LimitExceededFault)."""


class ResourceNotFound(AWSError):
    """A named alarm does not exist (SetAlarmState, DeleteAlarms), or a named dashboard
    (GetDashboard, DeleteDashboards: the model's DashboardNotFoundError)."""

    status = 404


class ResourceNotFoundException(AWSError):
    """A tagged resource does not exist (TagResource, UntagResource, ListTagsForResource)."""

    status = 404


class InvalidNextToken(AWSError):
    pass


class InvalidFormat(AWSError):
    """SetAlarmState's StateReasonData is not JSON (the model's InvalidFormatFault)."""


# --- CloudWatch dashboards ----------------------------------------------------------------

class InvalidParameterInput(AWSError):
    """PutDashboard's name or body is invalid (the model's DashboardInvalidInputError); the
    body's problems travel as ``dashboardValidationMessages`` (DataPath, Message)."""

    def __init__(self, message: str = "",
                 validation_messages: Sequence[Mapping[str, str]] = ()) -> None:
        super().__init__(message)
        if validation_messages:
            self.fields = {"dashboardValidationMessages": [dict(item) for item in
                                                           validation_messages]}
