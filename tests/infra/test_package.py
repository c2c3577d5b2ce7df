"""The deployment package: what `azd package` zips (local/package.py does it the same way), and the prepackage
hook that builds the console's assets into it.

The package is built from a copy of the repository's tracked files, plus what a developer's folder holds
besides them (a virtual environment, node_modules, caches, local settings, azd's .azure folder) and the
console's sources and built assets, which the test writes when the console is not built.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from local.package import build
from tests.infra.bicepdoc import REPO

RUNTIME = ("function_app.py", "host.json", "requirements.txt")
RUNTIME_DIRS = ("functions/", "shared/", "console/dist/")
NEVER = ("local/", "tests/", "bench/", "infra/", ".venv/", "node_modules/", "console/node_modules/", "console/src/")
HOOK = REPO / "infra" / "hooks" / "build-console.sh"

# Files a working folder holds besides the tracked ones. None of them may ship.
UNTRACKED = {
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    ".venv/lib/python3.11/site-packages/x.py": "",
    "node_modules/azurite/package.json": "{}",
    "shared/__pycache__/config.cpython-311.pyc": "",
    ".azure/prod/.env": "AZURE_ENV_NAME=prod\n",
    "local.settings.json": "{}",
    ".mypy_cache/3.11/x.json": "{}",
    "console/package.json": "{}",
    "console/package-lock.json": "{}",
    "console/src/main.tsx": "",
    "console/node_modules/react/index.js": "",
    "console/vite.config.ts": "",
}
# The console's build output, written when the console was not built in this folder.
BUILT = {
    "console/dist/index.html": "<!doctype html>",
    "console/dist/assets/index.js": "",
    "console/dist/assets/index.css": "",
}


def _tracked_copy(destination: Path) -> None:
    """The files git knows or would add (tracked, and untracked but not ignored)."""
    command = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    listed = subprocess.run(command, cwd=REPO, check=True, capture_output=True).stdout
    for relative in filter(None, listed.decode().split("\0")):
        source = REPO / relative
        if not source.is_file():  # deleted in the work tree
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def working_folder(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    _tracked_copy(root)
    _write(root, UNTRACKED)
    built = REPO / "console" / "dist"
    if (built / "index.html").is_file():
        shutil.copytree(built, root / "console" / "dist", dirs_exist_ok=True)
    else:
        _write(root, BUILT)
    return root


def test_package_holds_the_runtime_and_the_console_assets_only(working_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "package.zip"
    listed = build(working_folder, out)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
    assert names == listed
    for name in RUNTIME:
        assert name in names, f"the package lacks {name}"
    for prefix in RUNTIME_DIRS:
        assert any(n.startswith(prefix) for n in names), f"the package lacks {prefix}"
    assert "console/dist/index.html" in names
    assert "functions/_http.py" in names and "shared/config.py" in names
    for prefix in NEVER:
        assert not [n for n in names if n.startswith(prefix)], f"the package carries {prefix}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    for left_out in UNTRACKED:
        assert left_out not in names, f"the package carries {left_out}"
    # Nothing at the top but the runtime: a new non-runtime file at the root must be added to .funcignore.
    top = {n.split("/", 1)[0] for n in names}
    assert top == {*RUNTIME, "functions", "shared", "console"}
    assert {n.split("/", 2)[1] for n in names if n.startswith("console/")} == {"dist"}


def test_package_matches_what_is_on_disk_for_every_python_module(working_folder: Path) -> None:
    """Every module the app imports ships: nothing under functions/ or shared/ is dropped by a pattern."""
    names = set(build(working_folder, working_folder.parent / "p.zip"))
    for package in ("functions", "shared"):
        on_disk = {
            path.relative_to(working_folder).as_posix()
            for path in (working_folder / package).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }
        assert on_disk <= names, f"missing from the package: {sorted(on_disk - names)}"


def test_azure_yaml_builds_the_console_before_packaging() -> None:
    spec = yaml.safe_load((REPO / "azure.yaml").read_text(encoding="utf-8"))
    hook = spec["services"]["api"]["hooks"]["prepackage"]
    assert hook["posix"] == {"shell": "sh", "run": "./infra/hooks/build-console.sh"}
    assert hook["windows"] == {"shell": "pwsh", "run": "./infra/hooks/build-console.ps1"}
    for variant in (hook["posix"], hook["windows"]):
        assert (REPO / variant["run"]).is_file()
    assert HOOK.stat().st_mode & stat.S_IXUSR, "azd runs the script directly"
    windows = (REPO / hook["windows"]["run"]).read_text(encoding="utf-8")
    assert "npm ci" in windows and "npm run build" in windows and "dist/index.html" in windows


def _fake_npm(bin_dir: Path, log: Path, *, writes_dist: bool) -> None:
    """An npm that records where and how it ran; `npm run build` writes dist/index.html like Vite."""
    build_step = 'mkdir -p dist && echo "<!doctype html>" > dist/index.html' if writes_dist else "true"
    script = bin_dir / "npm"
    script.write_text(
        f'#!/bin/sh\necho "$(pwd) $*" >> "{log}"\nif [ "$1" = "run" ] && [ "$2" = "build" ]; then {build_step}; fi\n',
        encoding="utf-8",
    )
    script.chmod(0o755)


def _run_hook(root: Path, tmp_path: Path, *, writes_dist: bool = True) -> tuple[subprocess.CompletedProcess[str], Path]:
    hook = root / "infra" / "hooks" / "build-console.sh"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "npm.log"
    log.unlink(missing_ok=True)
    _fake_npm(bin_dir, log, writes_dist=writes_dist)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    # azd runs service hooks from the service folder; the script must not depend on that.
    result = subprocess.run(["sh", str(hook)], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    return result, log


def test_prepackage_hook_runs_npm_ci_and_build_in_the_console(working_folder: Path, tmp_path: Path) -> None:
    shutil.rmtree(working_folder / "console" / "dist")
    result, log = _run_hook(working_folder, tmp_path)
    assert result.returncode == 0, result.stderr
    console = (working_folder / "console").resolve()
    assert log.read_text(encoding="utf-8").splitlines() == [
        f"{console} ci --no-audit --no-fund",
        f"{console} run build",
    ]
    # ...and what it built is what ships.
    assert "console/dist/index.html" in build(working_folder, tmp_path / "p.zip")


def test_prepackage_hook_fails_without_a_console_or_without_its_build(working_folder: Path, tmp_path: Path) -> None:
    shutil.rmtree(working_folder / "console" / "dist")
    result, _ = _run_hook(working_folder, tmp_path, writes_dist=False)
    assert result.returncode != 0
    assert "console/dist/index.html" in result.stderr
    shutil.rmtree(working_folder / "console")
    result, log = _run_hook(working_folder, tmp_path)
    assert result.returncode != 0
    assert "console/package.json not found" in result.stderr
    assert not log.exists(), "npm never ran"


def _package_of(root: Path, files: dict[str, str]) -> set[str]:
    _write(root, files)
    return set(build(root, root.parent / f"{root.name}.zip"))


def test_packager_follows_azds_rules(tmp_path: Path) -> None:
    """What local.package shares with azd's createDeployableZip, beyond plain .gitignore matching."""
    # A directory left out is not entered: nothing below it comes back, as in git and azd.
    pruned = _package_of(
        tmp_path / "pruned",
        {".funcignore": "build/\n!build/keep.txt\n", "build/keep.txt": "", "app.py": ""},
    )
    assert pruned == {"app.py"}
    # Always left out, whatever .funcignore says: azd's environment folder, the ignore file, local settings.
    always = _package_of(
        tmp_path / "always",
        {".funcignore": "# nothing\n", ".azure/env/.env": "", "local.settings.json": "{}", "app.py": ""},
    )
    assert always == {"app.py"}
    # Without a .funcignore, azd's Python defaults: no __pycache__, no virtual environment.
    defaults = _package_of(
        tmp_path / "defaults",
        {"env/pyvenv.cfg": "", "env/lib/x.py": "", "pkg/__pycache__/m.pyc": "", "pkg/m.py": "", "node_modules/x": ""},
    )
    assert defaults == {"pkg/m.py", "node_modules/x"}
