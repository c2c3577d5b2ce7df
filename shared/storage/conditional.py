"""One conditional blob write: create only if missing, or replace only the version we read (ETag).

Checkpoints, incremental state and the export ledger are all read-modify-write documents that two
workers may race on; the loser gets PreconditionFailed and nothing is overwritten.
"""

from __future__ import annotations

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob.aio import BlobClient

from shared.errors import PreconditionFailed


async def upload_if(blob: BlobClient, body: bytes, etag: str | None, *, what: str) -> str:
    """Write `body`: when `etag` is None only if the blob does not exist, else only if it still has `etag`.

    Returns the new ETag; raises PreconditionFailed("<what> changed ...") when someone else wrote first."""
    try:
        if etag is None:
            result = await blob.upload_blob(body, match_condition=MatchConditions.IfMissing)
        else:
            result = await blob.upload_blob(
                body, overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified
            )
    except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
        raise PreconditionFailed(f"{what} was changed by another worker; it was not saved") from None
    return str(result["etag"])


__all__ = ["upload_if"]
