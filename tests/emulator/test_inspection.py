"""/_emulator/ routes: runtime config, reset, seeds and views; plus the CLI process and the thread runner."""

from __future__ import annotations

import argparse
import urllib.request

import aiohttp
import pytest

from local.activecampaign_emulator import (
    ConfigError,
    EmulatorConfig,
    EmulatorProcess,
    EmulatorServer,
    EmulatorThread,
    is_valid_email,
)
from local.activecampaign_emulator.config_io import add_config_flags, coerce_patch, config_from_args
from tests.emulator.conftest import KEY, Client, people


async def test_config_is_patched_at_run_time_all_or_nothing(client: Client, emu: EmulatorServer) -> None:
    before = (await client.inspect("config"))["config"]
    assert before["general_rps"] == 5.0
    patched = (await client.inspect("config", {"rate_scale": "2.5", "bulk_rate_limit_status": 429}))["config"]
    assert (patched["rate_scale"], patched["bulk_rate_limit_status"]) == (2.5, 429)
    assert emu.config.rate_scale == 2.5
    for bad in ({"no_such_switch": 1}, {"bulk_rate_limit_status": 418}, {"rate_scale": 3, "error_503_probability": 2}):
        reply = await client.post("/_emulator/config", bad, key=None)
        assert reply.status == 400
        assert "error" in reply.body
    assert emu.config.rate_scale == 2.5  # the partly valid patch changed nothing
    docs = (await client.inspect("config?docs=1"))["docs"]
    assert docs["bulk_rate_limit_status"]["choices"] == [400, 429]
    assert docs["initial_false_s"]["default"] == 1.0


async def test_reset_clears_state_and_counters_and_keeps_config_unless_asked(
    client: Client, emu: EmulatorServer
) -> None:
    emu.patch_config(bulk_success_key="success")
    await client.bulk(people(3))
    emu.state.add_list("Extra")
    await client.inspect("reset", {})
    assert emu.state.contact_count == 0
    assert [item["name"] for item in (await client.inspect("lists"))["lists"]] == ["Email Subscription"]
    assert (await client.inspect("requests"))["total"] == 0
    assert (await client.inspect("batches"))["batches"] == []
    assert emu.config.bulk_success_key == "success"
    await client.inspect("reset", {"config": True})
    assert emu.config.bulk_success_key == "Success"


async def test_seed_routes_and_member_views(client: Client, emu: EmulatorServer) -> None:
    assert (await client.inspect("lists", {"name": "Ten", "id": 10}))["id"] == 10
    field = await client.inspect("fields", {"title": "Plan", "type": "dropdown"})
    seeded = await client.inspect(
        "contacts",
        {
            "contacts": [
                {"email": "Gone@example.com", "first_name": "Gone", "lists": {"10": 2}, "tags": ["old"]},
                {"email": "kept@example.com", "phone": "555", "fields": {str(field["id"]): "Gold"}, "lists": {"10": 1}},
            ]
        },
    )
    assert seeded["ids"] == [1, 2]
    members = await client.inspect("lists/10/members")
    assert (members["total"], members["subscribed"], members["unsubscribed"]) == (2, 1, 1)
    rows = {m["email"]: m for m in members["members"]}
    assert rows["Gone@example.com"]["status"] == 2
    assert rows["Gone@example.com"]["tags"] == ["old"]
    assert rows["kept@example.com"]["fields"] == {str(field["id"]): "Gold"}
    assert rows["kept@example.com"]["writes"] == 0  # seeds are not writes
    compact = await client.inspect("lists/10/members?compact=1&status=1")
    assert compact["statuses"] == {"kept@example.com": 1}
    paged = await client.inspect("lists/10/members?offset=1&limit=1")
    assert [m["email"] for m in paged["members"]] == ["kept@example.com"]
    assert (await client.inspect("contacts?email=GONE@example.com"))["lists"] == {"10": 2}
    missing = await client.get("/_emulator/lists/99/members", key=None)
    assert missing.status == 404


async def test_python_accessors_match_the_routes(client: Client, emu: EmulatorServer) -> None:
    await client.bulk([*people(2), {"email": "out@example.com", "unsubscribe": [{"listid": 1}]}])
    state = emu.state
    assert state.list_members(1) == {"person0@example.com": 1, "person1@example.com": 1, "out@example.com": 2}
    assert state.write_counts() == {"person0@example.com": 1, "person1@example.com": 1, "out@example.com": 1}
    [batch] = state.batches.values()
    assert batch.contacts == 3
    assert emu.budgets.snapshot(emu.emulator.origin)["accepted_bulk_multi"]["count"] == 1


def test_email_syntax_follows_acs_documented_rules() -> None:
    good = ["a@b.co", "first.last+tag@sub.example.com", "o'brien@example.ie", "UPPER@EXAMPLE.COM", "x_y@d-1.museum"]
    bad = [
        "",
        "plain",
        "@example.com",
        "a@b",
        "a@b.c",
        "a@b.c1",
        "a@@b.com",
        "a b@example.com",
        'a"b@example.com',
        "a(b)@example.com",
        "a,b@example.com",
        "a:b@example.com",
        "a;b@example.com",
        "<a>@example.com",
        "a[b]@example.com",
        "a\\b@example.com",
        "a@exa mple.com",
        "a@.com",
        "a@example..com",
        None,
        42,
    ]
    assert [e for e in good if not is_valid_email(e)] == []
    assert [e for e in bad if is_valid_email(e)] == []


def test_cli_flags_and_config_json_build_the_config() -> None:
    parser = argparse.ArgumentParser()
    add_config_flags(parser)
    args = parser.parse_args(
        [
            "--api-key",
            "k1",
            "--api-key",
            "k2",
            "--no-limits-enabled",
            "--rate-scale",
            "60",
            "--contact-limit",
            "10",
            "--latency-routes",
            "/import,/contacts",
            "--config-json",
            '{"bulk_success_key": "success"}',
        ]
    )
    config = config_from_args(args)
    assert config.api_keys == ["k1", "k2"]
    assert (config.limits_enabled, config.rate_scale, config.contact_limit) == (False, 60.0, 10)
    assert config.latency_routes == ["/import", "/contacts"]
    assert config.bulk_success_key == "success"
    with pytest.raises(ConfigError):
        coerce_patch({"storm_kind": "418"})


async def test_the_cli_process_serves_and_stops_cleanly() -> None:
    with EmulatorProcess(["--api-key", "cli-key", "--api-key", "cli-key-2", "--rate-scale", "2"]) as proc:
        assert proc.api_keys == ["cli-key", "cli-key-2"]
        async with aiohttp.ClientSession() as session:
            async with session.get(proc.url + "/api/3/users/me", headers={"Api-Token": "cli-key-2"}) as me:
                assert me.status == 200
            async with session.get(proc.url + "/api/3/users/me", headers={"Api-Token": KEY}) as other:
                assert other.status == 403
            async with session.get(proc.url + "/_emulator/config") as cfg:
                assert (await cfg.json())["config"]["rate_scale"] == 2.0
        process = proc.process
    assert process is not None
    assert process.returncode == 0  # SIGTERM stops it cleanly


def test_thread_runner_serves_synchronous_callers() -> None:
    with EmulatorThread(EmulatorConfig(api_keys=["t"], limits_enabled=False)) as emu:
        request = urllib.request.Request(emu.url + "/api/3/lists/1", headers={"Api-Token": "t"})
        with urllib.request.urlopen(request) as resp:
            assert resp.status == 200
        assert emu.call(lambda e: e.state.lists[1].name) == "Email Subscription"
