"""REST resources: happy paths, AC's documented error bodies, auth and pagination."""

from __future__ import annotations

from local.activecampaign_emulator import EmulatorServer
from tests.emulator.conftest import KEY, OTHER_KEY, Client


async def test_missing_or_unknown_key_is_403_and_header_name_is_case_insensitive(client: Client) -> None:
    assert (await client.get("/api/3/users/me", key=None)).status == 403
    assert (await client.get("/api/3/users/me", key="wrong")).status == 403
    lower = await client.get("/api/3/users/me", key=None, headers={"api-token": KEY})
    assert lower.status == 200
    assert lower.body["user"]["id"] == "1"


async def test_users_me_names_the_keys_user(client: Client) -> None:
    reply = await client.get("/api/3/users/me", key=OTHER_KEY)
    assert reply.status == 200
    assert reply.body["user"]["id"] == "2"
    assert set(reply.body["user"]) >= {"username", "firstName", "lastName", "email", "links"}


async def test_lists_get_create_delete_and_not_found_body(client: Client) -> None:
    listed = await client.get("/api/3/lists")
    assert listed.body["meta"]["total"] == "1"
    assert listed.body["lists"][0]["id"] == "1"
    assert listed.body["lists"][0]["name"] == "Email Subscription"

    incomplete = await client.post("/api/3/lists", {"list": {"name": "VIP"}})
    assert incomplete.status == 422
    assert incomplete.body["errors"][0]["code"] == "field_missing"

    body = {"list": {"name": "VIP", "stringid": "vip", "sender_url": "https://x.example", "sender_reminder": "r"}}
    created = await client.post("/api/3/lists", body)
    assert created.status == 201
    new_id = created.body["list"]["id"]
    assert new_id == "2"
    assert (await client.get(f"/api/3/lists/{new_id}")).body["list"]["name"] == "VIP"

    deleted = await client.call("DELETE", f"/api/3/lists/{new_id}")
    assert (deleted.status, deleted.body) == (200, {})
    gone = await client.get(f"/api/3/lists/{new_id}")
    assert gone.status == 404
    assert gone.body == {"message": f"No Result found for _List with id {new_id}"}
    assert (await client.get("/api/3/lists/7")).body == {"message": "No Result found for _List with id 7"}


async def test_lists_filter_by_name(client: Client, emu: EmulatorServer) -> None:
    emu.state.add_list("Newsletter")
    emu.state.add_list("Customers")
    reply = await client.get("/api/3/lists?filters[name]=news")
    assert [item["name"] for item in reply.body["lists"]] == ["Newsletter"]
    assert reply.body["meta"]["total"] == "1"


async def test_fields_create_list_and_default_limit_100(client: Client) -> None:
    bad = await client.post("/api/3/fields", {"field": {"title": "X", "type": "colour"}})
    assert bad.status == 422
    for i in range(25):
        created = await client.post("/api/3/fields", {"field": {"title": f"Field {i}", "type": "text"}})
        assert created.status == 201
    assert created.body["field"]["id"] == "25"
    assert created.body["field"]["perstag"] == "FIELD_24"
    listed = await client.get("/api/3/fields")
    assert len(listed.body["fields"]) == 25  # default limit 100 for /fields, not 20
    assert listed.body["meta"]["total"] == "25"
    assert {"fieldOptions", "fieldRels"} <= set(listed.body)
    by_tag = await client.get("/api/3/fields?filters[perstag]=field_3")
    assert [f["title"] for f in by_tag.body["fields"]] == ["Field 3"]


async def test_create_contact_duplicate_and_invalid_email(client: Client) -> None:
    created = await client.post("/api/3/contacts", {"contact": {"email": "Jane@Example.com", "firstName": "Jane"}})
    assert created.status == 201
    assert created.body["contact"]["id"] == "1"
    assert created.body["contact"]["email"] == "Jane@Example.com"
    duplicate = await client.post("/api/3/contacts", {"contact": {"email": "jane@example.COM"}})
    assert duplicate.status == 422
    assert duplicate.body == {
        "errors": [
            {
                "title": "Email address already exists in the system",
                "detail": "",
                "code": "duplicate",
                "source": {"pointer": "/data/attributes/email"},
            }
        ]
    }
    invalid = await client.post("/api/3/contacts", {"contact": {"email": "not-an-email"}})
    assert invalid.status == 422
    assert invalid.body["errors"][0]["code"] == "email_invalid"
    assert (await client.post("/api/3/contacts", {"nope": 1})).status == 400


async def test_sync_creates_then_updates_with_configured_status(client: Client, emu: EmulatorServer) -> None:
    first = await client.post("/api/3/contact/sync", {"contact": {"email": "a@example.com", "lastName": "One"}})
    assert first.status == 201
    again = await client.post("/api/3/contact/sync", {"contact": {"email": "A@EXAMPLE.com", "lastName": "Two"}})
    assert again.status == 201  # documented default
    emu.patch_config(sync_update_status=200)
    third = await client.post("/api/3/contact/sync", {"contact": {"email": "a@example.com", "phone": "123"}})
    assert third.status == 200
    assert third.body["contact"]["id"] == first.body["contact"]["id"]
    assert third.body["contact"]["lastName"] == "Two"
    assert emu.state.write_count("a@example.com") == 3


async def test_sync_stores_known_custom_fields(client: Client, emu: EmulatorServer) -> None:
    field = emu.state.add_field("Colour", "text")
    body = {"contact": {"email": "f@example.com", "fieldValues": [{"field": str(field.id), "value": "Blue"}]}}
    reply = await client.post("/api/3/contact/sync", body)
    assert reply.body["fieldValues"][0]["value"] == "Blue"
    contact = await client.get(f"/api/3/contacts/{reply.body['contact']['id']}")
    assert contact.body["fieldValues"][0] == {**contact.body["fieldValues"][0], "field": str(field.id), "value": "Blue"}


async def test_get_contact_by_id_and_its_lists(client: Client, emu: EmulatorServer) -> None:
    emu.state.seed_contact("x@example.com", lists={1: 2})
    reply = await client.get("/api/3/contacts/1")
    assert reply.body["contact"]["email"] == "x@example.com"
    lists = await client.get("/api/3/contacts/1/contactLists")
    assert [(cl["list"], cl["status"]) for cl in lists.body["contactLists"]] == [("1", "2")]
    missing = await client.get("/api/3/contacts/99")
    assert missing.status == 404
    assert missing.body == {"message": "No Result found for Subscriber with id 99"}


async def test_contacts_by_email_is_exact_and_case_insensitive(client: Client, emu: EmulatorServer) -> None:
    emu.state.seed_contact("Mixed.Case@Example.com")
    emu.state.seed_contact("mixed.case@example.co")
    found = await client.get("/api/3/contacts?email=mixed.case@EXAMPLE.com")
    assert [c["email"] for c in found.body["contacts"]] == ["Mixed.Case@Example.com"]
    assert found.body["meta"]["total"] == "1"
    assert found.body["scoreValues"] == []
    none = await client.get("/api/3/contacts?email=nobody@example.com")
    assert (none.status, none.body["contacts"], none.body["meta"]["total"]) == (200, [], "0")


async def test_contacts_filtered_by_list_and_status(client: Client, emu: EmulatorServer) -> None:
    for i in range(5):
        emu.state.seed_contact(f"s{i}@example.com", lists={1: 1})
    for i in range(3):
        emu.state.seed_contact(f"u{i}@example.com", lists={1: 2})
    emu.state.seed_contact("outside@example.com")
    subscribed = await client.get("/api/3/contacts?listid=1&status=1&limit=1")
    assert subscribed.body["meta"]["total"] == "5"
    unsubscribed = await client.get("/api/3/contacts?listid=1&status=2")
    assert sorted(c["email"] for c in unsubscribed.body["contacts"]) == [f"u{i}@example.com" for i in range(3)]
    assert (await client.get("/api/3/contacts?listid=1")).body["meta"]["total"] == "8"
    assert (await client.get("/api/3/contacts")).body["meta"]["total"] == "9"
    in_list = await client.get("/api/3/contacts?email=S1@example.com&listid=1&status=2")
    assert in_list.body["contacts"] == []


async def test_pagination_default_20_max_100_offset_and_id_greater(client: Client, emu: EmulatorServer) -> None:
    for i in range(130):
        emu.state.seed_contact(f"p{i}@example.com")
    default = await client.get("/api/3/contacts")
    assert len(default.body["contacts"]) == 20
    assert default.body["meta"]["total"] == "130"
    capped = await client.get("/api/3/contacts?limit=500")
    assert len(capped.body["contacts"]) == 100
    paged = await client.get("/api/3/contacts?limit=10&offset=125")
    assert [c["id"] for c in paged.body["contacts"]] == [str(i) for i in range(126, 131)]
    after = await client.get("/api/3/contacts?orders[id]=ASC&id_greater=120&limit=100")
    assert [c["id"] for c in after.body["contacts"]] == [str(i) for i in range(121, 131)]
    assert after.body["meta"]["total"] == "10"
    desc = await client.get("/api/3/contacts?orders[id]=DESC&limit=2")
    assert [c["id"] for c in desc.body["contacts"]] == ["130", "129"]
    emu.patch_config(limit_over_max="error")
    assert (await client.get("/api/3/contacts?limit=101")).status == 400


async def test_contact_lists_subscribe_unsubscribe_and_resubscribe(client: Client, emu: EmulatorServer) -> None:
    emu.state.seed_contact("opted@example.com", lists={1: 2})
    reply = await client.post("/api/3/contactLists", {"contactList": {"list": 1, "contact": 1, "status": 1}})
    assert reply.status == 200
    assert reply.body["contactList"]["status"] == 1
    assert reply.body["contactList"]["list"] == "1"
    assert reply.body["contacts"][0]["email"] == "opted@example.com"
    assert emu.state.member_status(1, "opted@example.com") == 1  # status 1 re-subscribes
    await client.post("/api/3/contactLists", {"contactList": {"list": "1", "contact": "1", "status": 2}})
    assert emu.state.member_status(1, "OPTED@example.com") == 2
    writes = await client.inspect("writes?email=opted@example.com")
    assert writes["contact_list_writes"] == 2


async def test_contact_lists_unknown_list_or_contact(client: Client, emu: EmulatorServer) -> None:
    emu.state.seed_contact("c@example.com")
    no_list = await client.post("/api/3/contactLists", {"contactList": {"list": 9, "contact": 1, "status": 1}})
    assert no_list.status == 404
    assert no_list.body["errors"][0]["code"] == "related_missing"
    assert no_list.body["errors"][0]["source"]["pointer"] == "/data/attributes/list"
    emu.patch_config(contact_lists_missing_status=422)
    no_contact = await client.post("/api/3/contactLists", {"contactList": {"list": 1, "contact": 5, "status": 1}})
    assert no_contact.status == 422
    assert no_contact.body["errors"][0]["title"] == "The related contact does not exist."
    bad_status = await client.post("/api/3/contactLists", {"contactList": {"list": 1, "contact": 1, "status": 7}})
    assert bad_status.status == 422


async def test_unknown_route_under_api3_still_needs_a_key(client: Client) -> None:
    assert (await client.get("/api/3/nothing-here", key=None)).status == 403
    assert (await client.get("/api/3/nothing-here")).status == 404
