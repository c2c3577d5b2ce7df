"""Map a partition's location in model.json to a blob (and blob snapshot) in the snapshot container.

Accepted forms (the path is percent-decoded):
- `https://<account>.blob.core.windows.net/<container>/<blob>` and `...dfs.core.windows.net/...`
  (any cloud suffix: `<account>.blob.<suffix>` / `<account>.dfs.<suffix>`);
- `abfs[s]://<container>@<account>.dfs.core.windows.net/<blob>`;
- path-style emulator URLs, `http://127.0.0.1:10000/<account>/<container>/<blob>` (an IP or a dotless host);
- a relative path, taken relative to the folder holding model.json.
A `?snapshot=<time>` query names a blob snapshot (read that, not the current blob); other query
parameters (a SAS token, say) are ignored and never repeated in a message.
A location in another account or container is a SnapshotError: we read one container only.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, unquote, urlsplit

from shared.errors import SnapshotError

SERVICE_LABELS = frozenset({"blob", "dfs"})
SNAPSHOT_TIME: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z")


@dataclass(frozen=True)
class BlobLocation:
    name: str
    snapshot: str | None = None


def blob_location(location: str, *, account: str | None, container: str, root: str, where: str) -> BlobLocation:
    """The blob in `container` that `location` points to (`where` names the partition in errors)."""
    shown = _without_query(location)
    try:
        parts = urlsplit(location)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise SnapshotError(f"{where}: location {shown!r} is not a Blob Storage or Data Lake URL") from None
    snapshot = _snapshot(parts.query, where)
    if not parts.scheme:
        relative = unquote(parts.path).lstrip("/")
        if not relative:
            raise SnapshotError(f"{where}: the location is empty")
        _no_dot_segments(relative, where)
        return BlobLocation(relative if not root or relative.startswith(root + "/") else f"{root}/{relative}", snapshot)
    scheme = parts.scheme.lower()
    segments = unquote(parts.path).lstrip("/").split("/")
    _no_dot_segments("/".join(segments), where)
    if scheme in ("abfs", "abfss"):
        loc_container, loc_account = parts.username or "", host.split(".", 1)[0]
        blob = "/".join(segments)
    elif scheme in ("http", "https") and _is_path_style(host):
        if len(segments) < 3:
            raise SnapshotError(f"{where}: location {shown!r} has no account/container/blob path")
        loc_account, loc_container, blob = segments[0].lower(), segments[1], "/".join(segments[2:])
    elif scheme in ("http", "https") and host.count(".") >= 2 and host.split(".")[1] in SERVICE_LABELS:
        if len(segments) < 2:
            raise SnapshotError(f"{where}: location {shown!r} has no container/blob path")
        loc_account, loc_container, blob = host.split(".", 1)[0], segments[0], "/".join(segments[1:])
    else:
        raise SnapshotError(f"{where}: location {shown!r} is not a Blob Storage or Data Lake URL")
    if not blob or blob.endswith("/"):
        raise SnapshotError(f"{where}: location {shown!r} names a folder, not a file")
    if (account and loc_account != account.lower()) or loc_container != container:
        raise SnapshotError(
            f"{where}: location is in account {loc_account!r} container {loc_container!r}, but the snapshot "
            f"storage is account {account or '?'!r} container {container!r}: point SNAPSHOT_STORAGE and "
            "SNAPSHOT_CONTAINER at the storage Customer Insights exports to"
        )
    return BlobLocation(blob, snapshot)


def _snapshot(query: str, where: str) -> str | None:
    values = parse_qs(query, keep_blank_values=True).get("snapshot")
    if values is None:
        return None
    if len(values) != 1 or not SNAPSHOT_TIME.fullmatch(values[0]):
        raise SnapshotError(
            f"{where}: the location's snapshot= parameter is not one blob snapshot time "
            "(like 2026-03-01T09:30:00.1234567Z): fix the partition's location in model.json"
        )
    return values[0]


def _without_query(location: str) -> str:
    """The location as messages show it: without a query (it may hold a SAS token), at most 200 characters."""
    return location.split("?", 1)[0][:200]


def _no_dot_segments(path: str, where: str) -> None:
    """'.' and '..' segments could point outside the snapshot folder: refused."""
    if any(segment in (".", "..") for segment in path.split("/")):
        raise SnapshotError(f"{where}: a partition location must not contain '.' or '..' path segments")


def _is_path_style(host: str) -> bool:
    if "." not in host or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


__all__ = ["BlobLocation", "blob_location"]
