"""Build the function app's deployment package the way `azd package` does, to see what would ship.

azd (cli/azd/pkg/project/project_utils.go, createDeployableZip) walks the service folder top down and
leaves out every entry that `.funcignore` matches, in .gitignore syntax; a directory it leaves out is not
entered, so nothing below it can be brought back.  It also always leaves out `.azure/` directories, the
`.funcignore` file itself and, for a function app, `local.settings.json`.  This does the same with
pathspec's GitIgnoreSpec, and writes the zip that azd would upload.

    python -m local.package [--root DIR] [--out FILE]     # prints the packaged paths
"""

from __future__ import annotations

import argparse
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from pathspec import GitIgnoreSpec

from local.azurite import REPO_ROOT

IGNORE_FILE: Final = ".funcignore"
ALWAYS_SKIPPED_DIRS: Final = frozenset({".azure"})
ALWAYS_SKIPPED_FILES: Final = frozenset({IGNORE_FILE, "local.settings.json"})


def load_ignore(root: Path) -> GitIgnoreSpec | None:
    """The service's .funcignore, or None without one (azd then applies its Python defaults instead)."""
    path = root / IGNORE_FILE
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8-sig")  # azd strips a UTF-8 BOM as well
    return GitIgnoreSpec.from_lines(text.splitlines())


def _skipped(spec: GitIgnoreSpec | None, path: Path, relative: str, is_dir: bool) -> bool:
    name = path.name
    if is_dir and name in ALWAYS_SKIPPED_DIRS:
        return True
    if not is_dir and name in ALWAYS_SKIPPED_FILES:
        return True
    if spec is None:
        # azd's defaults without an ignore file, for Python: virtual environments and __pycache__.
        return is_dir and (name.lower() == "__pycache__" or (path / "pyvenv.cfg").exists())
    # A trailing slash tells GitIgnoreSpec that the path is a directory, so "dir/" patterns apply to it.
    return spec.match_file(relative + "/" if is_dir else relative)


def package_files(root: Path) -> Iterator[str]:
    """Relative POSIX paths of the files that go into the package, in walk order."""
    root = root.resolve()
    spec = load_ignore(root)

    def walk(directory: Path) -> Iterator[str]:
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            path = Path(entry.path)
            relative = path.relative_to(root).as_posix()
            is_dir = entry.is_dir()  # follows symlinks, as azd resolves them
            if _skipped(spec, path, relative, is_dir):
                continue
            if is_dir:
                yield from walk(path)
            else:
                yield relative

    return walk(root)


def build(root: Path, out: Path) -> list[str]:
    """Write the package zip to `out` and return the paths it holds."""
    files = list(package_files(root))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative in files:
            archive.write(root / relative, relative)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="service folder (default: the repository)")
    parser.add_argument("--out", type=Path, default=None, help="write the zip here (default: only list the files)")
    args = parser.parse_args(argv)
    files = build(args.root, args.out) if args.out else list(package_files(args.root))
    for relative in files:
        print(relative)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
