"""The developer machine's secret file: JSON ``{"<secret name>": "<value>" | null}``.

Several processes on one machine share it (the HTTP process stores a key, a worker
reads it), so:
- every write replaces the file atomically (temp file in the same folder + os.replace),
  which means a reader sees the old file or the new one, never half of one;
- read-modify-write holds an exclusive lock on ``<file>.lock`` (fcntl; on Windows
  there is no lock and concurrent writers may lose an update);
- the file is created with 0600 permissions and its folder with 0700.
``null`` marks a deleted secret, so it also hides a seeded (ACSECRET__) value.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from shared.errors import ConfigurationError

if sys.platform != "win32":
    import fcntl

FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700

Stored = dict[str, str | None]


class SecretsFile:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> Stored:
        """The file's content; an absent file is empty."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError:
            raise ConfigurationError(
                f"local secrets file {self.path} is not valid JSON: fix it or delete it and store the keys again"
            ) from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in data.items()
        ):
            raise ConfigurationError(
                f"local secrets file {self.path} must be a JSON object of name -> string or null: "
                "fix it or delete it and store the keys again"
            )
        return data

    def modify(self, edit: Callable[[Stored], None]) -> None:
        """Apply `edit` to the current content and write the result, under the machine-wide lock."""
        self.path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        with self._locked():
            data = self.load()
            edit(data)
            self._replace(data)

    def _replace(self, data: Stored) -> None:
        fd, tmp_name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            tmp.chmod(FILE_MODE)  # mkstemp already uses 0600; say it anyway
            tmp.replace(self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if sys.platform == "win32":
            yield
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock


__all__ = ["SecretsFile", "Stored"]
