"""`make mutate`: mutation testing (mutmut 2, pinned) of the pure modules, with a score per module.

    python -m tests.mutate                 # every module in TARGETS, then the score table
    python -m tests.mutate emails diff     # only these (names from TARGETS)
    python -m tests.mutate --survivors emails   # the surviving mutants of the last run, as diffs
    python -m tests.mutate --retest emails      # only the last run's survivors, against the tests as they are now
    python -m tests.mutate --finish rules       # the mutants a stopped run did not get to
    python -m tests.mutate --table              # the score table of the last runs

Each module is mutated by its own `mutmut run`, whose runner runs only the fast unit tests named for it in
TARGETS (no Azurite, no stacks).  Starting pytest costs seconds here (pyarrow, azure, hypothesis...), more than
most test runs, so a fork server (`--serve`) imports the third-party packages once; the runner
(`--client`, stdlib only, started with -S) asks it for a run, and it forks a child that forgets every
`shared`/`tests`/`local` module and runs pytest on the named files: each run imports the project's code,
mutant included, afresh.  No bytecode is written, so a mutant is never read back from a stale .pyc.

A mutant counts as killed when the tests fail or time out (mutmut's timeout: ten times the baseline);
the score is killed / (all mutants).  Each module's mutmut cache is kept in .mutmut/<name>.sqlite for
`--survivors`.  The explanations of the survivors that are left are in docs/mutation-survivors.md.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHES = ROOT / ".mutmut"
CHILD_TIMEOUT_S = 600  # a test run the server gives up on (mutmut's own timeout is usually far shorter)


@dataclass(frozen=True)
class Target:
    name: str
    what: str
    path: str
    tests: tuple[str, ...]


TARGETS = (
    Target(
        "rules",
        "row rules (validity, duplicates, values, report rows)",
        "shared/pipeline/rules.py",
        ("tests/pipeline/test_rules.py", "tests/badinput/test_prop_rules.py", "tests/pipeline/test_report.py"),
    ),
    Target(
        "values",
        "value formats (dates, datetimes, lists)",
        "shared/pipeline/values.py",
        ("tests/pipeline/test_rules.py",),
    ),
    Target("diff", "incremental diff", "shared/pipeline/diff.py", ("tests/pipeline/test_diff.py",)),
    Target(
        "buckets",
        "bucket planning (hash, bits, buckets)",
        "shared/pipeline/buckets.py",
        ("tests/pipeline/test_buckets.py",),
    ),
    Target(
        "emails",
        "email validity and reasons",
        "shared/pipeline/emails.py",
        ("tests/pipeline/test_emails.py", "tests/test_email_parity.py"),
    ),
    Target(
        "cdm",
        "model.json parsing",
        "shared/snapshot/cdm.py",
        (
            "tests/snapshot/test_cdm.py",
            "tests/snapshot/test_parts.py",
            *(  # the properties that need no Azurite
                f"tests/badinput/test_prop_snapshot.py::test_{name}"
                for name in (
                    "a_model_json_of_any_shape_parses_back_to_the_same_entity",
                    "any_json_as_model_json_is_a_model_or_a_snapshot_error",
                    "any_entity_shape_is_a_model_or_a_snapshot_error",
                    "any_bytes_as_model_json_are_a_model_or_a_snapshot_error",
                )
            ),
        ),
    ),
    Target(
        "locations",
        "partition location parsing",
        "shared/snapshot/locations.py",
        ("tests/snapshot/test_locations.py", "tests/snapshot/test_parts.py"),
    ),
    Target(
        "hostname", "hostname and address checks", "shared/security/hostname.py", ("tests/security/test_hostname.py",)
    ),
    Target(
        "account",
        "AC account key of a hostname",
        "shared/activecampaign/account.py",
        ("tests/activecampaign/test_account.py",),
    ),
    Target(
        "principal",
        "Easy Auth principal parsing",
        "shared/security/principal.py",
        ("tests/security/test_principal.py",),
    ),
)

# Imported once by the server; never project code (children must import the mutant afresh).
PRELOAD = (
    "pytest",
    "_pytest.python",
    "pytest_asyncio",
    "pytest_timeout",
    "xdist",
    "hypothesis",
    "hypothesis.strategies",
    "numpy",
    "pyarrow",
    "pyarrow.compute",
    "pyarrow.csv",
    "pyarrow.parquet",
    "pyarrow.ipc",
    "pydantic",
    "aiohttp",
    "aiohttp.web",
    "aiohttp.test_utils",
    "azure.core",
    "azure.storage.blob.aio",
    "azure.storage.queue.aio",
    "azure.identity.aio",
    "azure.keyvault.secrets.aio",
    "idna",
    "croniter",
    "orjson",
    "opentelemetry.trace",
)
# pytest plugins the unit tests in TARGETS do not use (each costs start-up time in every run)
UNUSED_PLUGINS = ("cacheprovider", "schemathesis", "anyio", "xdist", "xdist.looponfail", "aiohttp")
PROJECT_PACKAGES = ("shared", "tests", "local", "functions", "function_app", "bench")
SOURCES = ("shared", "tests", "local", "functions", "bench")  # compiled once per lane


# --- the fork server and its client -------------------------------------------------------------------------


def _preload() -> None:
    """Import the pytest plugins, the heavy packages and whatever the tests import, then forget the project."""
    from importlib.metadata import entry_points

    for name in [*PRELOAD, *(e.value.split(":")[0] for e in entry_points(group="pytest11"))]:
        with contextlib.suppress(ImportError):
            __import__(name)
    modules = {"tests.conftest", "tests.leakprobe"}
    for target in TARGETS:
        for test in target.tests:
            parts = Path(test).with_suffix("").parts
            modules.update(".".join(parts[:i]) + ".conftest" for i in range(1, len(parts)))
            modules.add(".".join(parts))
    for name in sorted(modules):
        with contextlib.suppress(ImportError):
            __import__(name)
    for name in [m for m in sys.modules if m.split(".")[0] in PROJECT_PACKAGES and m != "__main__"]:
        del sys.modules[name]


def serve(sock_path: str) -> None:
    sys.dont_write_bytecode = True
    _preload()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)
    server.listen(1)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            request = conn.makefile().readline().split()
            if request == ["quit"]:
                return
            code = _run_child(conn, request)
            with contextlib.suppress(OSError):
                conn.sendall(f"{code}\n".encode())


def _run_child(conn: socket.socket, args: list[str]) -> int:
    pid = os.fork()
    if pid == 0:  # the child: a fresh look at the project's code, then pytest
        os.setpgid(0, 0)
        for name in [m for m in sys.modules if m.split(".")[0] in PROJECT_PACKAGES]:
            del sys.modules[name]
        log = os.open(os.environ.get("MUTATE_LOG", os.devnull), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(log, 1)
        os.dup2(log, 2)
        import pytest
        from hypothesis import Phase, settings

        # a failing example is not shrunk (a mutant only needs one); failing examples are replayed first
        settings.register_profile("mutate", phases=[Phase.explicit, Phase.reuse, Phase.generate], deadline=None)
        settings.load_profile("mutate")
        flags = ["-x", "-q", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
        for name in UNUSED_PLUGINS:
            flags += ["-p", f"no:{name}"]
        code = pytest.main([*flags, *args])
        os._exit(int(code))
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) & 0xFF
        readable, _, _ = select.select([conn], [], [], 0.1)
        gone = bool(readable) and not conn.recv(1, socket.MSG_PEEK)
        if gone or time.monotonic() > deadline:  # mutmut gave up on this run (its timeout): stop it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return 124


def client(args: list[str]) -> int:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(os.environ["MUTATE_SOCKET"])
    conn.sendall((" ".join(args) + "\n").encode())
    answer = conn.makefile().readline().strip()
    # mutmut 2 counts only exit code 1 as "the tests failed": a mutant that breaks collection or an import
    # (pytest's 2 or 4) must count as killed too
    return 0 if answer == "0" else 1


# --- the driver ---------------------------------------------------------------------------------------------


def _statuses(cache: Path, path: str) -> dict[str, int]:
    db = sqlite3.connect(cache)
    try:
        rows = db.execute(
            "SELECT m.status, COUNT(*) FROM Mutant m JOIN Line l ON m.line = l.id "
            "JOIN SourceFile f ON l.sourcefile = f.id WHERE f.filename = ? GROUP BY m.status",
            (path,),
        ).fetchall()
    finally:
        db.close()
    return dict(rows)


def _score(counts: dict[str, int]) -> tuple[int, int, int, int]:
    """(killed, timed out, survived, total) of the mutants that were run."""
    killed = counts.get("ok_killed", 0) + counts.get("ok_suspicious", 0)
    timeout = counts.get("bad_timeout", 0)
    survived = counts.get("bad_survived", 0) + counts.get("skipped", 0)
    return killed, timeout, survived, killed + timeout + survived


@dataclass
class Lane:
    """A copy of the project's files where one mutmut run at a time mutates, with its own fork server."""

    root: Path
    env: dict[str, str]
    server: subprocess.Popen[str] | None = None

    @classmethod
    def start(cls, base: Path, index: int) -> Lane:
        root = base / f"lane-{index}"
        files = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        for name in files:
            if name.split("/")[0] in SOURCES or "/" not in name:  # the code, the tests and the root's files
                source = ROOT / name
                if source.is_file():
                    (root / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, root / name)
        # bytecode for the unmutated files, written once; nothing writes any later, so a mutant is never stale
        subprocess.run([sys.executable, "-m", "compileall", "-q", *SOURCES], cwd=root, check=False)
        env = {
            **os.environ,
            "MUTATE_SOCKET": str(root / "server.sock"),
            "MUTATE_LOG": str(root / "tests.log"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        lane = cls(root, env)
        lane.server = subprocess.Popen(
            [sys.executable, "-m", "tests.mutate", "--serve", env["MUTATE_SOCKET"]],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert lane.server.stdout is not None
        if lane.server.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the fork server of {root} did not start")
        return lane

    def stop(self) -> None:
        if self.server is not None:
            self.server.kill()
            self.server.wait()

    def run(self, target: Target) -> None:
        cache = self.root / ".mutmut-cache"
        cache.unlink(missing_ok=True)
        runner = f"{sys.executable} -S {self.root / 'tests' / 'mutate.py'} --client {' '.join(target.tests)}"
        started = time.monotonic()
        subprocess.run(  # exit code: a bit mask of what survived; the cache holds the counts
            [
                *(sys.executable, "-m", "mutmut", "run"),
                *("--paths-to-mutate", target.path, "--runner", runner, "--simple-output", "--no-progress"),
            ],
            cwd=self.root,
            env=self.env,
            check=False,
            stdout=subprocess.DEVNULL,
        )
        counts = _statuses(cache, target.path) if cache.exists() else {}
        CACHES.mkdir(exist_ok=True)
        if cache.exists():
            shutil.copy(cache, CACHES / f"{target.name}.sqlite")
        print(f"  {target.name:<10} {_format(counts)} in {time.monotonic() - started:.0f} s", flush=True)


def _format(counts: dict[str, int]) -> str:
    killed, timeout, survived, total = _score(counts)
    if not total:
        return "no mutants (or the baseline failed: run the module's tests)"
    score = 100 * (killed + timeout) / total
    return f"{score:5.1f}%  ({killed} killed, {timeout} timed out, {survived} survived of {total})"


def _survivors_of(
    saved: Path, path: str, statuses: str = "'bad_survived', 'skipped'"
) -> list[tuple[int, str, int, int, str]]:
    """(id, line, index, line number, status) of each mutant in `saved` that survived its tests."""
    db = sqlite3.connect(saved)
    try:
        return db.execute(
            'SELECT m.id, l.line, m."index", l.line_number, m.status FROM Mutant m JOIN Line l ON m.line = l.id '
            "JOIN SourceFile f ON l.sourcefile = f.id WHERE f.filename = ? AND m.status IN "
            f'({statuses}) ORDER BY l.line_number, m."index"',
            (path,),
        ).fetchall()
    finally:
        db.close()


def _mutant(source: str, path: str, line: str, index: int, number: int) -> str:
    from mutmut import Context, RelativeMutationID, mutate

    mutated, _ = mutate(Context(source=source, filename=path, mutation_id=RelativeMutationID(line, index, number)))
    return str(mutated)


def survivors(names: list[str]) -> None:
    """Print each surviving mutant of the last run as a diff (read from .mutmut/<name>.sqlite)."""
    import difflib

    for target in [t for t in TARGETS if not names or t.name in names]:
        saved = CACHES / f"{target.name}.sqlite"
        if not saved.exists():
            continue
        rows = _survivors_of(saved, target.path)
        source = (ROOT / target.path).read_text()
        print(f"== {target.name} ({target.path}): {len(rows)} survived")
        for pk, line, index, number, status in rows:
            mutated = _mutant(source, target.path, line, index, number)
            diff = difflib.unified_diff(source.splitlines(), mutated.splitlines(), lineterm="", n=0)
            print(f"-- {pk} ({status}) line {number + 1}: " + " | ".join(list(diff)[3:]))


def retest(lane: Lane, target: Target, *, finish: bool = False) -> None:
    """Run the module's tests (as they are now) on each survivor of the last run and record the ones they kill;
    with `finish`, on the mutants a stopped run did not get to instead."""
    saved = CACHES / f"{target.name}.sqlite"
    if not saved.exists():
        print(f"  {target.name:<10} no earlier run to retest")
        return
    path = lane.root / target.path
    source = path.read_text()
    rows = _survivors_of(saved, target.path, "'untested'" if finish else "'bad_survived', 'skipped'")
    killed: list[int] = []
    try:
        for pk, line, index, number, _ in rows:
            path.write_text(_mutant(source, target.path, line, index, number))
            status = "ok_killed" if client_in(lane, target.tests) != 0 else "bad_survived"
            db = sqlite3.connect(saved)  # recorded one by one: a stopped retest keeps what it learnt
            with db:
                db.execute("UPDATE Mutant SET status = ? WHERE id = ?", (status, pk))
            db.close()
            if status == "ok_killed":
                killed.append(pk)
    finally:
        path.write_text(source)
    what = "mutants not run before" if finish else "survivors"
    print(f"  {target.name:<10} {len(killed)} of {len(rows)} {what} now killed", flush=True)


def client_in(lane: Lane, tests: tuple[str, ...]) -> int:
    return subprocess.run(
        [sys.executable, "-S", str(lane.root / "tests" / "mutate.py"), "--client", *tests],
        cwd=lane.root,
        env=lane.env,
        check=False,
    ).returncode


def _table(targets: list[Target]) -> None:
    print(f"\n{'module':<10} {'file':<34} {'score':>6}  killed/timed out/survived of total")
    for target in targets:
        saved = CACHES / f"{target.name}.sqlite"
        counts = _statuses(saved, target.path) if saved.exists() else {}
        killed, timeout, survived, total = _score(counts)
        score = 100 * (killed + timeout) / total if total else 0.0
        untested = counts.get("untested", 0)
        note = f"  (and {untested} not run: the run was stopped)" if untested else ""
        print(f"{target.name:<10} {target.path:<34} {score:5.1f}%  {killed}/{timeout}/{survived} of {total}{note}")
    print("\nsurvivors: python -m tests.mutate --survivors <module>; explained in docs/mutation-survivors.md")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--serve"]:
        serve(argv[1])
        return 0
    if argv[:1] == ["--client"]:
        return client(argv[1:])
    if argv[:1] == ["--survivors"]:
        survivors(argv[1:])
        return 0
    mode = "run"
    if argv[:1] in (["--retest"], ["--finish"], ["--table"]):
        mode, argv = argv[0][2:], argv[1:]
    jobs = int(os.environ.get("MUTATE_JOBS", "2"))
    unknown = [n for n in argv if n not in {t.name for t in TARGETS}]
    if unknown:
        print(f"unknown module(s) {unknown}; known: {[t.name for t in TARGETS]}")
        return 2
    targets = [t for t in TARGETS if not argv or t.name in argv]
    if mode == "table":
        _table(targets)
        return 0
    base = Path(tempfile.mkdtemp(prefix="mutate-"))
    lanes: list[Lane] = []
    pending = sorted(targets, key=lambda t: -(ROOT / t.path).stat().st_size)  # the longest first
    lock = threading.Lock()

    def work(lane: Lane) -> None:
        while True:
            with lock:
                if not pending:
                    return
                target = pending.pop(0)
            if mode in ("retest", "finish"):
                retest(lane, target, finish=mode == "finish")
            else:
                lane.run(target)

    try:
        lanes = [Lane.start(base, i) for i in range(max(1, min(jobs, len(targets))))]
        print(f"mutation testing ({mode}) {len(targets)} module(s) in {len(lanes)} lane(s) under {base}", flush=True)
        threads = [threading.Thread(target=work, args=(lane,)) for lane in lanes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for lane in lanes:
            lane.stop()
        shutil.rmtree(base, ignore_errors=True)
    _table(targets)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
