"""Translate Blob Storage failures met while reading a snapshot into the product's error taxonomy.

- the container is missing, or access is refused: SnapshotError (a setting or a role assignment to fix);
- throttling, 5xx, timeouts and broken connections: RetriableError (the queue retries the run);
- any other refusal: SnapshotError with the status and the service's error code.
ResourceNotFoundError for a blob and ResourceModifiedError (a failed If-Match) are left to the
caller, which knows what the blob was for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    IncompleteReadError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from shared.errors import RetriableError, SnapshotError

RETRIABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@contextmanager
def storage_errors(container: str, what: str) -> Iterator[None]:
    """Run a storage call; `what` ("reading <blob>") goes into the message."""
    try:
        yield
    except ResourceNotFoundError as exc:
        if is_container_missing(exc):
            raise SnapshotError(
                f"the snapshot container {container!r} does not exist: set SNAPSHOT_CONTAINER to the container "
                "Customer Insights exports to"
            ) from None
        raise
    except ResourceModifiedError:
        raise  # an If-Match failed: the caller knows which snapshot changed
    except ClientAuthenticationError:
        raise SnapshotError(_denied(container, what)) from None
    except (ServiceRequestError, ServiceResponseError, IncompleteReadError, TimeoutError, ConnectionError):
        # IncompleteReadError is an HttpResponseError: catch it first.
        raise RetriableError(f"the connection to Blob Storage failed while {what}; will retry") from None
    except HttpResponseError as exc:
        status = exc.status_code or 0
        if status in (401, 403):
            raise SnapshotError(_denied(container, what)) from None
        if status in RETRIABLE_STATUSES:
            raise RetriableError(f"Blob Storage answered {status} while {what}; will retry") from None
        raise SnapshotError(f"Blob Storage refused {what} with {status} {error_code(exc) or ''}".rstrip()) from None


def if_match(etag: str) -> dict[str, Any]:
    """download_blob's keywords for "only the version with this ETag" (none when the ETag is unknown)."""
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified} if etag else {}


def error_code(exc: HttpResponseError) -> str | None:
    """The storage service's error code (the SDK sets it on the exception at runtime)."""
    code = getattr(exc, "error_code", None)
    return str(code) if code else None


def is_container_missing(exc: HttpResponseError) -> bool:
    return error_code(exc) == "ContainerNotFound"


def _denied(container: str, what: str) -> str:
    return (
        f"access to the snapshot container {container!r} was refused while {what}: give the app's identity "
        "the Storage Blob Data Reader role on it"
    )


__all__ = ["error_code", "if_match", "is_container_missing", "storage_errors"]
