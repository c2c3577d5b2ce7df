"""POST /import/bulk_import, GET /import/info and GET /import/bulk_import."""

from __future__ import annotations

import orjson

from local.activecampaign_emulator import EmulatorServer, ManualClock
from tests.emulator.conftest import Client, people

VALIDATION = (
    "JSON payload did not pass validation. Please fix failure Reasons and retry. "
    "The import was not queued for processing."
)
BAD_EMAIL = "Field\u2018 email\u2019 incorrect format"


async def test_accepted_import_answers_like_ac_and_applies_the_contacts(client: Client, emu: EmulatorServer) -> None:
    contacts = [
        {
            "email": "Jane.Doe@Example.com",
            "first_name": "Jane",
            "last_name": "Doe",
            "phone": "123-456-7890",
            "tags": ["vip", "VIP", "new"],
            "fields": [{"id": 1, "value": "Blue"}],
            "subscribe": [{"listid": 1}],
            "exclude_automations": True,
        },
        {"email": "john@example.com", "subscribe": [{"listid": "1"}]},
    ]
    emu.state.add_field("Colour", "text")
    reply = await client.bulk(contacts)
    assert reply.status == 200
    assert set(reply.body) == {"Success", "queued_contacts", "batchId", "message"}
    assert reply.body["Success"] == 1
    assert reply.body["queued_contacts"] == 2
    assert reply.body["message"] == "Contact import queued"
    assert len(reply.body["batchId"]) == 36
    member = (await client.inspect("lists/1/members"))["members"][0]
    assert member["email"] == "Jane.Doe@Example.com"
    assert (member["first_name"], member["last_name"], member["phone"]) == ("Jane", "Doe", "123-456-7890")
    assert member["tags"] == ["vip", "new"]
    assert member["fields"] == {"1": "Blue"}
    assert member["status"] == 1
    assert emu.state.list_members(1) == {"Jane.Doe@Example.com": 1, "john@example.com": 1}
    batch = await client.inspect(f"batches/{reply.body['batchId']}")
    assert batch["exclude_automations"] == 1


async def test_success_key_casing_is_a_switch(client: Client, emu: EmulatorServer) -> None:
    emu.patch_config(bulk_success_key="success")
    reply = await client.bulk(people(2))
    assert reply.body["success"] == 1
    assert "Success" not in reply.body


async def test_one_bad_email_refuses_the_whole_batch_listing_every_bad_contact(
    client: Client, emu: EmulatorServer
) -> None:
    contacts = people(5)
    contacts[1]["email"] = "no-at-sign.example.com"
    contacts[3]["email"] = "bad(char)@example.com"
    del contacts[4]["email"]
    reply = await client.bulk(contacts)
    assert reply.status == 400
    assert reply.body == {
        "success": 0,
        "message": VALIDATION,
        "failureReasons": [
            {"contact": 1, "failureReason": BAD_EMAIL},
            {"contact": 3, "failureReason": BAD_EMAIL},
            {"contact": 4, "failureReason": BAD_EMAIL},
        ],
    }
    assert emu.state.contact_count == 0  # nothing from the batch was applied
    assert emu.state.batches == {}
    emu.patch_config(bulk_failure_index_base=1)
    one_based = await client.bulk(contacts)
    assert [r["contact"] for r in one_based.body["failureReasons"]] == [2, 4, 5]


async def test_refused_emails_fail_the_batch_like_malformed_ones(client: Client, emu: EmulatorServer) -> None:
    emu.patch_config(bulk_refused_emails=["Person1@Example.com"])
    refused = await client.bulk(people(3))
    assert refused.status == 400
    assert [r["contact"] for r in refused.body["failureReasons"]] == [1]
    assert emu.state.contact_count == 0
    emu.patch_config(bulk_refused_emails=[])
    assert (await client.bulk(people(3))).status == 200


async def test_caps_251_contacts_and_bytes_over_399999_are_refused(client: Client, emu: EmulatorServer) -> None:
    too_many = await client.bulk(people(251))
    assert too_many.status == 400
    assert too_many.body["success"] == 0
    assert "250" in too_many.body["failureReasons"][0]
    assert (await client.bulk(people(250))).status == 200

    contacts = people(100)
    contacts[0]["last_name"] = ""
    padding = 399_999 - len(orjson.dumps({"contacts": contacts}))
    contacts[0]["last_name"] = "x" * padding
    exactly = orjson.dumps({"contacts": contacts})
    assert len(exactly) == 399_999
    assert (await client.post("/api/3/import/bulk_import", data=exactly)).status == 200
    contacts[0]["last_name"] += "x"
    over = await client.post("/api/3/import/bulk_import", data=orjson.dumps({"contacts": contacts}))
    assert over.status == 400
    assert "399999" in over.body["failureReasons"][0]
    emu.patch_config(bulk_cap_status=413)
    assert (await client.bulk(people(251))).status == 413


async def test_empty_or_missing_contacts_are_400(client: Client) -> None:
    assert (await client.bulk([])).status == 400
    assert (await client.post("/api/3/import/bulk_import", {"nothing": 1})).status == 400
    assert (await client.post("/api/3/import/bulk_import", data=b"{not json")).status == 400


async def test_import_info_lifecycle_from_false_to_completed(
    client: Client, emu: EmulatorServer, clock: ManualClock
) -> None:
    emu.patch_config(initial_false_s=1.0, processing_delay_s=3.0)
    emu.state.seed_contact("person1@example.com")  # exists: an update, not listed in success by default
    batch_id = (await client.bulk(people(3))).body["batchId"]
    seen = []
    for _ in range(6):
        info = await client.get(f"/api/3/import/info?batchId={batch_id}")
        assert info.status == 200
        seen.append(info.body["status"])
        clock.advance(0.9)
    assert seen == [False, False, "waiting", "claimed", "active", "completed"]
    done = (await client.get(f"/api/3/import/info?batchId={batch_id}")).body
    assert done == {"status": "completed", "success": ["2", "3"], "failure": []}
    emu.patch_config(info_success_includes_updated=True)
    assert (await client.get(f"/api/3/import/info?batchId={batch_id}")).body["success"] == ["1", "2", "3"]


async def test_import_info_needs_a_batch_id_and_unknown_ids_follow_the_switch(
    client: Client, emu: EmulatorServer
) -> None:
    missing = await client.get("/api/3/import/info")
    assert missing.status == 400
    assert missing.body == {"success": 0, "message": "'batchId' is a required field."}
    assert (await client.get("/api/3/import/info?batchId=nope")).status == 404
    emu.patch_config(unknown_batch_response="false")
    unknown = await client.get("/api/3/import/info?batchId=nope")
    assert (unknown.status, unknown.body) == (200, {"status": False})


async def test_contacts_failing_after_the_200_are_listed_and_not_written(
    client: Client, emu: EmulatorServer, clock: ManualClock
) -> None:
    emu.patch_config(contact_limit=4)
    state = emu.state
    state.seed_contact("left@example.com", lists={1: 2})  # unsubscribed from list 1 earlier
    state.seed_contact("member@example.com", lists={1: 1})
    await client.inspect("exclusions", {"emails": ["Excluded@example.com"]})
    await client.inspect("bounced", {"emails": ["bounced@example.com"]})
    contacts = [
        {"email": "excluded@example.com", "subscribe": [{"listid": 1}]},
        {"email": "bounced@example.com", "subscribe": [{"listid": 1}]},
        {"email": "LEFT@example.com", "first_name": "Changed", "subscribe": [{"listid": 1}]},
        {"email": "new1@example.com", "subscribe": [{"listid": 1}]},
        {"email": "new2@example.com", "subscribe": [{"listid": 1}]},
        {"email": "new3@example.com", "subscribe": [{"listid": 1}]},  # over the contact limit of 4
    ]
    reply = await client.bulk(contacts)
    assert reply.status == 200
    clock.advance(5)
    info = (await client.get(f"/api/3/import/info?batchId={reply.body['batchId']}")).body
    assert info["status"] == "completed"
    assert info["failure"] == ["excluded@example.com", "bounced@example.com", "LEFT@example.com", "new3@example.com"]
    assert info["success"] == ["3", "4"]
    for email in ("excluded@example.com", "bounced@example.com", "new3@example.com"):
        assert state.contact(email) is None
    assert state.member_status(1, "left@example.com") == 2
    assert state.contact("left@example.com").first_name is None  # type: ignore[union-attr]
    reasons = {f["email"]: f["reason"] for f in (await client.inspect("batches"))["batches"][0]["failures"]}
    assert reasons["LEFT@example.com"] == "previously unsubscribed from list"
    writes = await client.inspect("writes")
    assert writes["failed"] == {
        "excluded@example.com": 1,
        "bounced@example.com": 1,
        "left@example.com": 1,
        "new3@example.com": 1,
    }


async def test_bulk_cannot_resubscribe_but_contact_lists_can(client: Client, emu: EmulatorServer) -> None:
    await client.bulk(people(1, start=7) + people(1, start=8))
    await client.bulk([{"email": "person7@example.com", "unsubscribe": [{"listid": 1}]}, *people(1, start=9)])
    assert emu.state.member_status(1, "person7@example.com") == 2  # bulk unsubscribe sets status 2
    await client.bulk(people(2, start=7))
    assert emu.state.member_status(1, "person7@example.com") == 2  # bulk subscribe did not re-subscribe
    contact_id = emu.state.contact("person7@example.com").id  # type: ignore[union-attr]
    body = {"contactList": {"list": 1, "contact": contact_id, "status": 1}}
    assert (await client.post("/api/3/contactLists", body)).status == 200
    assert emu.state.member_status(1, "person7@example.com") == 1


async def test_email_identity_is_case_insensitive_and_case_storage_is_a_switch(
    client: Client, emu: EmulatorServer
) -> None:
    await client.bulk([{"email": "Ann@Example.com"}, {"email": "bob@example.com"}])
    await client.bulk([{"email": "ANN@EXAMPLE.COM", "first_name": "Ann"}, {"email": "bob@example.com"}])
    assert emu.state.contact_count == 2
    ann = emu.state.contact("ann@example.com")
    assert ann is not None
    assert (ann.email, ann.first_name, ann.writes) == ("Ann@Example.com", "Ann", 2)
    emu.patch_config(email_case="last")
    await client.bulk([{"email": "aNN@example.com"}, {"email": "bob@example.com"}])
    assert ann.email == "aNN@example.com"
    emu.patch_config(email_case="lower")
    await client.bulk([{"email": "New.Person@Example.com"}, {"email": "bob@example.com"}])
    assert emu.state.contact("new.person@example.com").email == "new.person@example.com"  # type: ignore[union-attr]


async def test_write_counts_show_every_accepted_write(client: Client, emu: EmulatorServer) -> None:
    await client.bulk(people(3))
    await client.bulk(people(2, start=2))
    await client.post("/api/3/contact/sync", {"contact": {"email": "PERSON0@example.com"}})
    writes = await client.inspect("writes")
    assert writes["writes"] == {
        "person0@example.com": 2,
        "person1@example.com": 1,
        "person2@example.com": 2,
        "person3@example.com": 1,
    }
    assert writes["summary"]["max_writes"] == 2
    assert writes["summary"]["written_more_than_once"] == 2
    assert (await client.inspect("writes?min=2"))["writes"] == {"person0@example.com": 2, "person2@example.com": 2}


async def test_bulk_to_a_deleted_list_follows_the_switch(
    client: Client, emu: EmulatorServer, clock: ManualClock
) -> None:
    emu.state.add_list("Second")
    assert (await client.call("DELETE", "/api/3/lists/2")).status == 200
    failing = await client.bulk(people(2, listid=2))
    assert failing.status == 200  # default fail_contacts: accepted, then every contact fails
    clock.advance(5)
    info = (await client.get(f"/api/3/import/info?batchId={failing.body['batchId']}")).body
    assert info["failure"] == ["person0@example.com", "person1@example.com"]
    assert emu.state.contact_count == 0
    emu.patch_config(bulk_unknown_list="ignore")
    assert (await client.bulk(people(2, listid=2))).status == 200
    assert emu.state.contact_count == 2  # written, subscription dropped
    emu.patch_config(bulk_unknown_list="reject_batch")
    rejected = await client.bulk(people(2, start=5, listid=2))
    assert rejected.status == 400
    assert rejected.body["failureReasons"][0] == {"contact": 0, "failureReason": "List 2 does not exist"}


async def test_failed_batch_fault_applies_nothing(client: Client, emu: EmulatorServer, clock: ManualClock) -> None:
    emu.patch_config(batch_failure_probability=1.0, batch_failure_status="interrupted")
    reply = await client.bulk(people(3))
    assert reply.status == 200
    clock.advance(10)
    info = (await client.get(f"/api/3/import/info?batchId={reply.body['batchId']}")).body
    assert info == {"status": "interrupted", "success": [], "failure": []}
    assert emu.state.contact_count == 0


async def test_daily_aggregates_count_outstanding_and_completed(
    client: Client, emu: EmulatorServer, clock: ManualClock
) -> None:
    await client.bulk(people(3))
    clock.advance(10)
    await client.bulk(people(2, start=10))
    reply = await client.get("/api/3/import/bulk_import")
    assert reply.status == 200
    [outstanding] = reply.body["outstanding"]
    [completed] = reply.body["recentlyCompleted"]
    assert (outstanding["batches"], outstanding["contacts"]) == ("1", "2")
    assert (completed["batches"], completed["contacts"]) == ("1", "3")
    batches = await client.inspect("batches")
    assert batches["counts"] == {"completed": 1, "false": 1}
    assert batches["all_terminal"] is False
