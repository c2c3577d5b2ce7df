"""A model-based lifecycle test: random sequences of what happens to exports over their life, on the real pipeline.

One stack for the whole test (Azurite, two emulated ActiveCampaign accounts, function_app in the stand-in host,
driven over its HTTP API); each hypothesis example starts from empty accounts and no exports.  The steps:
create, edit, move (another connection, account or list), delete and re-create exports under reused names;
point a connection at the other account (a move for its exports); new snapshots with adds, changes and leavers;
contacts who unsubscribe themselves in AC, exclusions and deleted lists; runs with `full`, `dryRun` and `force`;
and (in the soak profile, or once in the default one) a worker process killed mid-run.  After every run, each
account's lists are compared with the reference model (tests/lifecycle/model.py), and the run's status and
counts with what the model says.

`LIFECYCLE_PROFILE=soak` (make soak) runs thousands of steps; the default profile is bounded for `make test`.
Both are derandomized: the same sequences on every machine.
"""

from __future__ import annotations

import asyncio
import copy
import os
import re
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import aiohttp
import pyarrow as pa
import pytest
from azure.storage.queue.aio import QueueClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import function_app
from local.activecampaign_emulator import EmulatorServer
from local.api_client import ApiError
from local.azurite import azurite
from local.host import HostConfig, StandInHost
from local.sample_data import Sample, SampleOptions, write_snapshot
from shared.names import ALL_QUEUES
from shared.services import close_services
from tests.e2e.stack import ALL_BUT_SHARDS, FAST_QUEUES, SNAPSHOT_ROOT, HostProcess, Stack, emulator_config, start_stack
from tests.helpers import eventually
from tests.lifecycle.model import Expected, ExportModel, World

T = TypeVar("T")
ALL_FUNCTIONS = [*ALL_BUT_SHARDS, "shard_worker"]

PROFILE = os.environ.get("LIFECYCLE_PROFILE", "default")
PROFILES: dict[str, dict[str, Any]] = {
    "default": {"max_examples": 4, "stateful_step_count": 16},
    "soak": {"max_examples": 100, "stateful_step_count": 40},
}
# worker processes killed mid-run, per sequence (each costs a process start and lapsed leases): only in the soak
KILLS = int(os.environ.get("LIFECYCLE_KILLS", {"default": 0, "soak": 1}[PROFILE]))

ACCOUNTS = ("A", "B")
CONNECTIONS = ("c1", "c2")
NAMES = ("x", "y", "z")  # few names: deleted exports' names are reused
SEGMENTS = ("LifeOne", "LifeTwo")
PEOPLE = 24  # everyone the segments draw from
EMAILS = tuple(f"life{i:02d}@example.com" for i in range(PEOPLE))
COLUMNS = ("CustomerId", "Email", "FirstName", "LastName", "Phone", "BirthDate", "Tier", "Interests")
RUN_TIMEOUT = 120.0
EVENTS_BETWEEN_RUNS = 3
PERCENTS = (0.0, 10.0, 50.0, 100.0)  # maxRemovalPercent


def _not(check: Callable[[], Awaitable[bool]]) -> Callable[[], Awaitable[bool]]:
    async def negated() -> bool:
        return not await check()

    return negated


def snapshot_sample(segment: str, rows: dict[str, int], key: str) -> Sample:
    """A one-partition CSV snapshot of `segment`: one row per email, its version in LastName."""
    emails = sorted(rows)
    n = len(emails)
    columns: dict[str, Any] = {
        "CustomerId": [f"C{EMAILS.index(e)}" for e in emails],
        "Email": emails,
        "FirstName": ["Life"] * n,
        "LastName": [f"V{rows[e]}" for e in emails],
        **{c: pa.nulls(n, pa.string()) for c in COLUMNS[4:]},
    }
    table = pa.table(
        {
            **{c: pa.array(columns[c], pa.string()) for c in COLUMNS},
            "_segment": pa.array([0] * n, pa.int16()),
            "_kind": pa.array([0] * n, pa.int8()),
            "_detail": pa.nulls(n, pa.string()),
        }
    )
    options = SampleOptions(profiles=n, segments=(segment,), partitions=1, invalid_rate=0.0, duplicate_rate=0.0)
    return Sample(options, table, next_id=n, key=key)


class Lifecycle(RuleBasedStateMachine):
    """Exports' lives against the reference model.  The class variables are set by the test before it runs: the
    event loop everything runs on, the stack, and both emulated accounts."""

    loop: ClassVar[asyncio.AbstractEventLoop]
    stack: ClassVar[Stack]
    emulators: ClassVar[dict[str, EmulatorServer]]
    tmp: ClassVar[Path]
    minute: ClassVar[int] = 0  # snapshot folders are per minute: each snapshot gets the next one
    started: ClassVar[datetime] = (datetime.now(UTC) - timedelta(days=7)).replace(second=0, microsecond=0)
    killed: ClassVar[int] = 0  # worker processes killed mid-run, over the whole test
    statuses: ClassVar[dict[str, int]] = {}  # how many runs ended how, over the whole test
    first_failure: ClassVar[str | None] = None  # hypothesis re-runs a failing sequence; this stack has moved on

    def __init__(self) -> None:
        super().__init__()
        self.world = World(ACCOUNTS)
        self.kills = KILLS
        self.events = 0  # since the last run
        self.history: dict[str, list[str]] = {}  # export id -> its run ids

    def wait(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    # --- set-up and clean-up -----------------------------------------------------------------------------------
    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        """Empty accounts with lists 1 and 2, both connections, a snapshot of each segment, and an export that ran."""
        for emulator in self.emulators.values():
            emulator.reset()
            emulator.state.add_list("Second list", list_id=2)
        for connection, account in zip(CONNECTIONS, ACCOUNTS, strict=True):
            self.wait(self.connect(connection, account))
        for i, segment_name in enumerate(SEGMENTS):
            self.world.segments[segment_name] = dict.fromkeys(EMAILS[i * 6 : i * 6 + 10], 0)
            self.wait(self.write(segment_name))
        self.create_export(data, NAMES[0])
        self.run_every_export()  # so that every sequence starts with state to keep, move or inherit

    def teardown(self) -> None:
        for name in list(self.world.exports):
            self.wait(self.stack.api.expect((200,), "DELETE", f"/exports/{name}"))
        if PROFILE == "soak":  # progress, with `make soak`'s -s
            print(f"lifecycle: runs so far {self.statuses}, workers killed {self.killed}", flush=True)

    async def connect(self, connection: str, account: str) -> None:
        emulator = self.emulators[account]
        await self.stack.api.put_connection(
            connection,
            hostname=emulator.url.removeprefix("http://"),
            api_key=emulator.api_key,
            usable_by="admins-and-contributors",
        )
        self.world.connections[connection] = account

    async def write(self, segment: str) -> None:
        Lifecycle.minute += 1
        sample = snapshot_sample(segment, self.world.segments[segment], key=f"{segment}-{self.minute}")
        when = self.started + timedelta(minutes=self.minute)
        async with self.stack.container(self.stack.settings["SNAPSHOT_CONTAINER"]) as container:
            await write_snapshot(container, sample, root=SNAPSHOT_ROOT, written_at=when)

    # --- exports -------------------------------------------------------------------------------------------------
    def body(self, connection: str, list_id: int, segment: str, mirror: bool, percent: float) -> dict[str, Any]:
        return {
            "connection": connection,
            "listId": list_id,
            "segments": [segment],
            "mapping": {"email": "Email", "firstName": "FirstName", "lastName": "LastName"},
            "schedule": "manual",
            "syncMode": "mirror" if mirror else "upsert",
            "leaverAction": "unsubscribe",
            "maxRemovalPercent": percent,
        }

    def draw_target(self, data: st.DataObject) -> tuple[str, int]:
        connection = data.draw(st.sampled_from(CONNECTIONS), label="connection")
        lists = sorted(self.world.lists[self.world.connections[connection]])
        return connection, data.draw(st.sampled_from(lists), label="list")

    @rule(data=st.data(), what=st.sampled_from(["create", "move", "move", "mode", "segment", "delete", "recreate"]))
    def change_an_export(self, data: st.DataObject, what: str) -> None:
        """Create an export; edit one: move it (another connection, account or list), change its mode or what it
        reads; delete one; or delete one and create another under its name at once."""
        self.run_all_if_due()
        live = sorted(self.world.exports)
        if what == "create" or not live:
            free = [n for n in NAMES if n not in live]
            if free:
                self.create_export(data, data.draw(st.sampled_from(free), label="name"))
            return
        name = data.draw(st.sampled_from(live), label="export")
        if what in ("delete", "recreate"):
            self.wait(self.stack.api.expect((200,), "DELETE", f"/exports/{name}"))
            self.world.delete_export(name)
            if what == "recreate":
                self.create_export(data, name)
            return
        export = self.world.exports[name]
        connection, list_id, segment = export.connection, export.list_id, export.segment
        mirror, percent = export.mirror, export.max_removal_percent
        if what == "move":
            connection, list_id = self.draw_target(data)
        elif what == "mode":
            mirror = data.draw(st.booleans(), label="mirror")
            percent = data.draw(st.sampled_from(PERCENTS), label="percent")
        else:
            segment = data.draw(st.sampled_from(SEGMENTS), label="segment")
        if list_id not in self.world.lists[self.world.connections[connection]]:
            return  # its list was deleted: an edit must name a list that exists
        edited = self.wait(self.stack.api.put_export(name, self.body(connection, list_id, segment, mirror, percent)))
        assert edited["id"] == export.id  # an edit keeps the id
        export.connection, export.list_id, export.segment = connection, list_id, segment
        export.mirror, export.max_removal_percent = mirror, percent

    def create_export(self, data: st.DataObject, name: str) -> None:
        connection, list_id = self.draw_target(data)
        segment = data.draw(st.sampled_from(SEGMENTS), label="segment")
        mirror = data.draw(st.booleans(), label="mirror")
        percent = data.draw(st.sampled_from(PERCENTS), label="percent")
        created = self.wait(self.stack.api.put_export(name, self.body(connection, list_id, segment, mirror, percent)))
        assert created["id"] not in {e.id for e in self.world.exports.values()} | set(self.history)  # a new id
        self.world.exports[name] = ExportModel(created["id"], connection, list_id, segment, mirror, percent)

    @rule(connection=st.sampled_from(CONNECTIONS), account=st.sampled_from(ACCOUNTS))
    def point_a_connection_at_an_account(self, connection: str, account: str) -> None:
        """Save a connection with an account's hostname (another one: a move for every export on it)."""
        self.run_all_if_due()
        self.wait(self.connect(connection, account))

    @rule(
        segment=st.sampled_from(SEGMENTS),
        joiners=st.sets(st.sampled_from(EMAILS), max_size=4),
        leavers=st.sets(st.sampled_from(EMAILS), max_size=3),
        changed=st.sets(st.sampled_from(EMAILS), max_size=3),
    )
    def new_snapshot(self, segment: str, joiners: set[str], leavers: set[str], changed: set[str]) -> None:
        """A new snapshot of a segment: people join, leave, and have their details changed."""
        self.run_all_if_due()
        rows = self.world.segments[segment]
        for email in sorted(leavers):
            if len(rows) > 1:  # an empty snapshot is its own case (tests/e2e/test_identity.py)
                rows.pop(email, None)
        for email in sorted(changed & set(rows)):
            rows[email] += 1
        for email in sorted(joiners - set(rows)):
            rows[email] = 0
        self.wait(self.write(segment))

    @rule(
        data=st.data(),
        account=st.sampled_from(ACCOUNTS),
        what=st.sampled_from(["opt-out", "opt-out", "exclude", "include", "delete-list"]),
    )
    def something_happens_in_ac(self, data: st.DataObject, account: str, what: str) -> None:
        """In an account: a subscribed member unsubscribes themselves; an address is put on the exclusion list or
        taken off it; or a list is deleted (and another made: AC never reuses a list id)."""
        self.run_all_if_due()
        state = self.emulators[account].state
        world = self.world
        if what == "opt-out":
            # not someone a live export removed and would re-subscribe: it cannot tell them from its own removal
            # (AC keeps no history of who unsubscribed whom)
            candidates = [
                (list_id, email)
                for list_id, members in sorted(world.lists[account].items())
                for email, status in sorted(members.items())
                if status == 1 and not world.removed_by_anyone(account, list_id, email)
            ]
            if candidates:
                list_id, email = data.draw(st.sampled_from(candidates), label="opt-out")
                contact = state.contact(email)
                assert contact is not None
                state.lists[list_id].set_status(contact.id, 2)
                world.lists[account][list_id][email] = 2
                world.opted_out[account][list_id].add(email)
        elif what == "exclude":
            email = data.draw(st.sampled_from(EMAILS), label="email")
            state.seed_exclusions([email])
            world.excluded[account].add(email)
        elif what == "include" and world.excluded[account]:
            email = data.draw(st.sampled_from(sorted(world.excluded[account])), label="email")
            state.exclusions.discard(email)
            world.excluded[account].discard(email)
        elif what == "delete-list":
            list_id = data.draw(st.sampled_from(sorted(world.lists[account])), label="list")
            assert state.delete_list(list_id)
            del world.lists[account][list_id]
            new_id = world.next_list[account]
            world.next_list[account] += 1
            state.add_list(f"List {new_id}", list_id=new_id)
            world.lists[account][new_id] = {}
            world.opted_out[account][new_id] = set()

    # --- runs ----------------------------------------------------------------------------------------------------
    @precondition(lambda self: bool(self.world.exports))
    @rule(data=st.data(), full=st.booleans(), dry_run=st.booleans(), force=st.booleans())
    def run(self, data: st.DataObject, full: bool, dry_run: bool, force: bool) -> None:
        name = data.draw(st.sampled_from(sorted(self.world.exports)), label="export")
        options = {k: True for k, v in (("full", full), ("dryRun", dry_run), ("force", force)) if v}
        run = self.wait(self.run_export(name, **options))
        self.check_run(name, run, self.world.run(name, full=full, dry_run=dry_run, force=force))

    @precondition(lambda self: bool(self.world.exports))
    @rule(data=st.data())
    def plain_run(self, data: st.DataObject) -> None:
        """A run without options (the common case, so drawn as often as all the others together)."""
        name = data.draw(st.sampled_from(sorted(self.world.exports)), label="export")
        run = self.wait(self.run_export(name))
        self.check_run(name, run, self.world.run(name, full=False, dry_run=False, force=False))

    @precondition(lambda self: bool(self.world.exports))
    @rule()
    def run_every_export(self) -> None:
        for name in sorted(self.world.exports):
            run = self.wait(self.run_export(name))
            self.check_run(name, run, self.world.run(name, full=False, dry_run=False, force=False))

    def run_all_if_due(self) -> None:
        """Every few events, the exports run (hypothesis may have switched the run rules off for this example)."""
        self.events += 1
        if self.events > EVENTS_BETWEEN_RUNS:
            self.run_every_export()

    @precondition(lambda self: self.kills > 0 and bool(self.world.exports))
    @rule(data=st.data())
    def kill_a_worker_mid_run(self, data: st.DataObject) -> None:
        """A worker process is killed while its bulk import hangs in AC; another picks the shard up.  A full,
        forced run, so that it sends something whatever the export holds."""
        name = data.draw(st.sampled_from(sorted(self.world.exports)), label="export")
        preview = copy.deepcopy(self.world).run(name, full=True, dry_run=False, force=True)
        if preview.status == "Failed" or not preview.counts["toSend"]:
            return
        self.kills -= 1
        Lifecycle.killed += 1
        account = self.world.target_of(self.world.exports[name]).account
        run = self.wait(self.killed_mid_run(name, self.emulators[account]))
        self.check_run(name, run, self.world.run(name, full=True, dry_run=False, force=True))

    async def killed_mid_run(self, name: str, emulator: EmulatorServer) -> dict[str, Any]:
        stack = self.stack

        async def stalled() -> bool:
            async with stack.http.get(f"{emulator.url}/_emulator/faults") as response:
                return bool((await response.json())["stalled"])

        await self.replace_host(ALL_BUT_SHARDS)  # shards go to the worker process only
        emulator.patch_config(stall_bulk_after=0)  # its first bulk import hangs, unanswered and not applied
        worker = HostProcess(stack.settings, self.tmp, ["shard_worker"]).start()
        try:
            run_id = await stack.start_run(name, full=True, force=True)
            await eventually(stalled, timeout=RUN_TIMEOUT)
            worker.kill()  # no clean-up: its message and lane leases lapse by themselves
            await eventually(_not(stalled), timeout=30)  # the emulator saw the connection die: nothing applied
        finally:
            worker.kill()
            emulator.patch_config(stall_bulk_after=None)
            await self.replace_host(ALL_FUNCTIONS)
        return await self.finished(name, run_id)

    async def replace_host(self, functions: list[str]) -> None:
        """Stack.restart_host, with start_stack's message lease (a message the stopped host held comes back soon)."""
        stack = self.stack
        await stack.host.stop()
        config = HostConfig(queues=FAST_QUEUES)
        stack.host = StandInHost(
            function_app.app,
            stack.settings,
            config,
            functions=functions,
            http_port=0,
            enable_timers=False,
            message_lease_s=10,
        )
        await stack.host.start()

    async def run_export(self, name: str, **options: bool) -> dict[str, Any]:
        return await self.finished(name, await self.stack.start_run(name, **options))

    async def finished(self, name: str, run_id: str) -> dict[str, Any]:
        """The run once it ended; if it does not, what it and the queues looked like."""
        try:
            return await self.stack.wait_run(name, run_id, timeout=RUN_TIMEOUT)
        except ApiError as exc:
            run = await self.stack.api.get_run(name, run_id)
            queues: dict[str, int] = {}
            for queue in ALL_QUEUES:
                async with QueueClient.from_connection_string(self.stack.azurite.connection_string, queue) as client:
                    properties = await client.get_queue_properties()
                    queues[queue] = properties.approximate_message_count
            raise AssertionError(f"{exc}: {run}; queues {queues}") from exc

    @rule()
    def history_belongs_to_the_id(self) -> None:
        """Each export's runs are its own id's: none of a deleted export that had the name before.  (Cheap, and
        first in hypothesis's rule order: the simplest example repeats it, not a run.)"""
        for name, export in sorted(self.world.exports.items()):
            runs = self.wait(self.stack.api.runs(name))
            assert sorted(r["id"] for r in runs) == sorted(self.history.get(export.id, [])), name
            assert {r["exportId"] for r in runs} <= {export.id}

    def check_run(self, name: str, run: dict[str, Any], expected: Expected) -> None:
        self.events = 0
        Lifecycle.statuses[run["status"]] = Lifecycle.statuses.get(run["status"], 0) + 1
        self.history.setdefault(run["exportId"], []).append(run["id"])
        try:
            self.compare(name, run, expected)
        except AssertionError as exc:
            Lifecycle.first_failure = Lifecycle.first_failure or f"{exc!r}"
            raise

    def compare(self, name: str, run: dict[str, Any], expected: Expected) -> None:
        assert run["status"] == expected.status, (name, run, expected)
        assert run["exportId"] == self.world.exports[name].id
        if expected.list_gone is not None:
            message = run["error"]["message"]
            assert re.search(rf"list {expected.list_gone} (does not exist|no longer exists)", message), run
        self.check_lists()  # what AC holds first, then how the run counted it
        counts = {k: run["counts"][k] for k in expected.counts}
        assert counts == expected.counts, (name, run, expected)

    # --- what must always hold -----------------------------------------------------------------------------------
    @invariant()
    def check_lists(self) -> None:
        """Every list of both accounts holds exactly what the model says; nobody who unsubscribed themselves is
        subscribed again."""
        for account, emulator in self.emulators.items():
            lists = self.world.lists[account]
            assert set(emulator.state.lists) == set(lists), account
            for list_id, expected in lists.items():
                members = {e.lower(): s for e, s in emulator.state.list_members(list_id).items()}
                assert members == expected, (account, list_id)
                assert all(members[e] == 2 for e in self.world.opted_out[account][list_id]), (account, list_id)


@pytest.mark.timeout(3 * 3600 if PROFILE == "soak" else 600)
def test_an_exports_whole_life_matches_the_reference_model(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    server = azurite().start()
    stack: Stack | None = None
    other: EmulatorServer | None = None
    try:

        async def begin() -> tuple[Stack, EmulatorServer]:
            second = await EmulatorServer(emulator_config()).start()
            emulator, host, settings = await start_stack(
                server, tmp_path, AC_ALLOWED_LOCAL_HOSTS=second.url.removeprefix("http://")
            )
            return Stack(server, emulator, settings, host, aiohttp.ClientSession()), second

        stack, other = loop.run_until_complete(begin())
        Lifecycle.loop, Lifecycle.stack, Lifecycle.tmp = loop, stack, tmp_path
        Lifecycle.emulators = {"A": stack.emulator, "B": other}
        try:
            run_state_machine_as_test(
                Lifecycle,
                settings=settings(
                    **PROFILES[PROFILE],
                    derandomize=True,
                    database=None,
                    deadline=None,
                    phases=[Phase.explicit, Phase.generate],  # no shrinking: every step is a real run
                    suppress_health_check=list(HealthCheck),
                ),
            )
        except (HypothesisException, BaseExceptionGroup) as exc:  # the replay differed (Flaky): say what failed first
            if Lifecycle.first_failure is None:
                raise
            raise AssertionError(f"first failure: {Lifecycle.first_failure}") from exc
        print("lifecycle runs by status:", Lifecycle.statuses, "workers killed mid-run:", Lifecycle.killed)
        assert sum(Lifecycle.statuses.values()) > 0
    finally:

        async def end() -> None:
            if stack is not None:
                await stack.host.stop()
                await stack.http.close()
                await stack.emulator.stop()
            await close_services()
            if other is not None:
                await other.stop()

        loop.run_until_complete(end())
        loop.close()
        server.stop()
