"""The one error taxonomy of the product.

Every error raised on purpose is an `ExportError`.  It carries a stable `code`,
the HTTP status the API answers with, a message that says what to fix, and
optional per-field details.  Messages never contain secrets or contact data.

Two families matter to the pipeline:
- `RetriableError`: try again later (the queue or the client retries);
- `FatalError`: stop the run now and say why; retrying cannot help.

The HTTP boundary (functions/_http.py) and the queue boundary (functions/_queue.py)
are the only places that translate these into responses or re-raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class ErrorDetail:
    """One failing field (dotted path, e.g. ``mapping.email``) and what is wrong with it."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class ExportError(Exception):
    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: Sequence[ErrorDetail] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = tuple(details)

    def as_body(self) -> dict[str, object]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": [d.as_dict() for d in self.details],
            }
        }


class ConfigurationError(ExportError):
    """The deployment's settings are wrong (a missing or malformed app setting)."""

    code = "configuration_error"


class InvalidInput(ExportError):
    """The caller sent something we cannot accept; `details` names every failing field."""

    code = "invalid_request"
    status = 400

    @classmethod
    def for_field(cls, field: str, message: str) -> InvalidInput:
        return cls(f"{field}: {message}", details=[ErrorDetail(field, message)])


class Unauthenticated(ExportError):
    code = "unauthenticated"
    status = 401


class Forbidden(ExportError):
    code = "forbidden"
    status = 403


class NotFound(ExportError):
    code = "not_found"
    status = 404


class Conflict(ExportError):
    code = "conflict"
    status = 409


class PreconditionFailed(ExportError):
    """An ETag did not match: someone else changed the document first."""

    code = "precondition_failed"
    status = 412


class PayloadTooLarge(ExportError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(ExportError):
    code = "unsupported_media_type"
    status = 415


class CorruptDocument(ExportError):
    """A stored document cannot be parsed.  It affects only itself."""

    code = "corrupt_document"
    status = 500


class RetriableError(ExportError):
    """A transient failure: the same work may succeed later.  `retry_after` is a hint in seconds."""

    code = "transient_error"
    status = 503

    def __init__(self, message: str, *, retry_after: float | None = None, details: Sequence[ErrorDetail] = ()) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class StorageUnavailable(RetriableError):
    """Storage (or Key Vault) could not be reached or did not answer in time."""

    code = "storage_unavailable"


class WorkBusy(RetriableError):
    """Another worker holds this piece of work (its lease): the message comes back after `retry_after`, when a
    crashed holder's lease has lapsed, without spending one of the message's delivery attempts."""

    code = "work_busy"


class FatalError(ExportError):
    """A failure that retrying cannot fix (a revoked key, a deleted list, an unreadable snapshot)."""

    code = "fatal_error"
    status = 502


class SecretNotFound(FatalError):
    """A stored secret (a connection's API key) is missing from the secret store."""

    code = "secret_not_found"


class SnapshotError(FatalError):
    """The segment snapshot is missing, unreadable or does not fit the export's mapping."""

    code = "snapshot_error"
    status = 422


__all__ = [
    "ConfigurationError",
    "Conflict",
    "CorruptDocument",
    "ErrorDetail",
    "ExportError",
    "FatalError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "RetriableError",
    "SecretNotFound",
    "SnapshotError",
    "StorageUnavailable",
    "Unauthenticated",
    "UnsupportedMediaType",
    "WorkBusy",
]
