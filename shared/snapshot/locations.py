"""Map a partition's location in model.json to a blob name in the snapshot container.

Accepted forms (the path is percent-decoded):
- `https://<account>.blob.core.windows.net/<container>/<blob>` and `...dfs.core.windows.net/...`
  (any cloud suffix: `<account>.blob.<suffix>` / `<account>.dfs.<suffix>`);
- `abfs[s]://<container>@<account>.dfs.core.windows.net/<blob>`;
- path-style emulator URLs, `http://127.0.0.1:10000/<account>/<container>/<blob>` (an IP or a dotless host);
- a relative path, taken relative to the folder holding model.json.
A location in another account or container is a SnapshotError: we read one container only.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import unquote, urlsplit

from shared.errors import SnapshotError

SERVICE_LABELS = frozenset({"blob", "dfs"})


def blob_name_for(location: str, *, account: str | None, container: str, root: str, where: str) -> str:
    """The blob name in `container` that `location` points to (`where` names the partition in errors)."""
    try:
        parts = urlsplit(location)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise SnapshotError(f"{where}: location {location[:200]!r} is not a Blob Storage or Data Lake URL") from None
    if not parts.scheme:
        relative = unquote(location).lstrip("/")
        if not relative:
            raise SnapshotError(f"{where}: the location is empty")
        _no_dot_segments(relative, where)
        return relative if not root or relative.startswith(root + "/") else f"{root}/{relative}"
    scheme = parts.scheme.lower()
    segments = unquote(parts.path).lstrip("/").split("/")
    _no_dot_segments("/".join(segments), where)
    if scheme in ("abfs", "abfss"):
        loc_container, loc_account = parts.username or "", host.split(".", 1)[0]
        blob = "/".join(segments)
    elif scheme in ("http", "https") and _is_path_style(host):
        if len(segments) < 3:
            raise SnapshotError(f"{where}: location {location!r} has no account/container/blob path")
        loc_account, loc_container, blob = segments[0].lower(), segments[1], "/".join(segments[2:])
    elif scheme in ("http", "https") and host.count(".") >= 2 and host.split(".")[1] in SERVICE_LABELS:
        if len(segments) < 2:
            raise SnapshotError(f"{where}: location {location!r} has no container/blob path")
        loc_account, loc_container, blob = host.split(".", 1)[0], segments[0], "/".join(segments[1:])
    else:
        raise SnapshotError(f"{where}: location {location!r} is not a Blob Storage or Data Lake URL")
    if not blob or blob.endswith("/"):
        raise SnapshotError(f"{where}: location {location!r} names a folder, not a file")
    if (account and loc_account != account.lower()) or loc_container != container:
        raise SnapshotError(
            f"{where}: location is in account {loc_account!r} container {loc_container!r}, but the snapshot "
            f"storage is account {account or '?'!r} container {container!r}: point SNAPSHOT_STORAGE and "
            "SNAPSHOT_CONTAINER at the storage Customer Insights exports to"
        )
    return blob


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


__all__ = ["blob_name_for"]
