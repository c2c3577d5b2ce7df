"""The routes the console needs: who am I, Connect (verify only), an account's lists and fields, segments.

The role matrix (allowed and denied for every route) is tests/api/test_access.py; the OpenAPI checks are
tests/api/test_openapi.py.  Here: what each route answers, and its bad input.
"""

from __future__ import annotations

import json

from shared.api.routes import CONNECTION_FIELDS, CONNECTION_LISTS, ME, SEGMENTS_LIST, VERIFY_CONNECTION
from shared.api.sources import ROOT_QUERY
from shared.services import Services
from tests.api.client import ADMIN, CONTRIBUTOR, VIEWER, ApiClient
from tests.api.conftest import Emu, ProdFactory, Snapshots, connection_body


async def test_me_says_who_calls_and_that_local_sign_in_is_allowed_in_local_development(
    api: ApiClient, dev: Services
) -> None:
    nobody = await api.call("GET", ME.path)
    viewer = await api.call("GET", ME.path, as_=VIEWER)

    assert nobody.status == viewer.status == 200
    assert nobody.json()["signedIn"] is False and nobody.json()["localSignIn"] is True
    assert "X-MS-CLIENT-PRINCIPAL" in nobody.json()["reason"]
    assert viewer.json() == {
        "signedIn": True,
        "name": "victor",
        "roles": ["Viewer"],
        "localSignIn": True,
        "reason": None,
    }


async def test_me_refuses_a_client_made_principal_outside_local_development(api: ApiClient, prod: ProdFactory) -> None:
    # without Easy Auth and without local development, a header the client built is not believed
    await prod(auth_enabled=False)
    forged = await api.call("GET", ME.path, as_=ADMIN)
    assert forged.status == 200
    assert forged.json()["signedIn"] is False and forged.json()["localSignIn"] is False
    assert forged.json()["roles"] == []


async def test_me_behind_easy_auth_has_the_roles_and_no_local_sign_in(api: ApiClient, prod: ProdFactory) -> None:
    await prod(auth_enabled=True)
    reply = await api.call("GET", ME.path, as_=CONTRIBUTOR)
    assert reply.json()["signedIn"] is True and reply.json()["roles"] == ["Contributor"]
    assert reply.json()["localSignIn"] is False


async def test_connect_verifies_the_key_and_names_the_account_user_and_saves_nothing(
    api: ApiClient, dev: Services, emu: Emu
) -> None:
    before, _ = await dev.connections.list()  # the config container is shared by the session's tests

    # a pasted URL is normalised as PUT /connections does
    reply = await api.call(
        "POST", VERIFY_CONNECTION.path, as_=ADMIN, json_body={"hostname": f"http://{emu.host}/", "apiKey": emu.key}
    )

    assert reply.status == 200, reply.body
    assert reply.json() == {"hostname": emu.host, "user": {"id": "1", "username": "admin"}}
    assert emu.key.encode() not in reply.body
    after, _ = await dev.connections.list()
    assert [c.doc.name for c in after] == [c.doc.name for c in before]
    assert emu.server.metrics.request_counts() == {"GET /users/me": {"200": 1}}


async def test_connect_names_the_failing_field(api: ApiClient, dev: Services, emu: Emu) -> None:
    wrong_key = await api.call(
        "POST", VERIFY_CONNECTION.path, as_=ADMIN, json_body={"hostname": emu.host, "apiKey": "not-the-key"}
    )
    internal_host = await api.call(
        "POST", VERIFY_CONNECTION.path, as_=ADMIN, json_body={"hostname": "10.0.0.7", "apiKey": emu.key}
    )
    missing_key = await api.call("POST", VERIFY_CONNECTION.path, as_=ADMIN, json_body={"hostname": emu.host})
    not_json = await api.call("POST", VERIFY_CONNECTION.path, as_=ADMIN, body=b"{")

    assert wrong_key.status == internal_host.status == missing_key.status == not_json.status == 400
    assert wrong_key.fields == ["apiKey"]
    assert internal_host.fields == ["hostname"]
    assert emu.server.metrics.request_counts() == {"GET /users/me": {"403": 1}}  # the internal host was not called
    assert missing_key.fields == ["apiKey"]
    assert not_json.fields == ["body"]
    assert b"not-the-key" not in wrong_key.body


async def test_lists_and_fields_come_from_the_connections_account(api: ApiClient, dev: Services, emu: Emu) -> None:
    emu.server.state.add_list("Newsletter")
    emu.server.state.add_field("Loyalty tier", "text", "LOYALTY")
    for name, usable in (("shared", "admins-and-contributors"), ("private", "admins")):
        put = await api.call(
            "PUT", f"connections/{name}", as_=ADMIN, json_body=connection_body(emu.host, emu.key, usableBy=usable)
        )
        assert put.status == 201, put.body

    lists = await api.call("GET", CONNECTION_LISTS.path.format(name="shared"), as_=CONTRIBUTOR)
    fields = await api.call("GET", CONNECTION_FIELDS.path.format(name="shared"), as_=CONTRIBUTOR)
    admin_lists = await api.call("GET", CONNECTION_LISTS.path.format(name="private"), as_=ADMIN)

    assert lists.status == fields.status == admin_lists.status == 200
    assert lists.json() == {"items": [{"id": "1", "name": "Email Subscription"}, {"id": "2", "name": "Newsletter"}]}
    assert admin_lists.json() == lists.json()
    assert {"id": "1", "title": "Loyalty tier", "type": "text"} in fields.json()["items"]


async def test_lists_of_a_connection_the_caller_may_not_use_reveal_nothing(
    api: ApiClient, dev: Services, emu: Emu
) -> None:
    await api.call("PUT", "connections/private", as_=ADMIN, json_body=connection_body(emu.host, emu.key))
    hidden = await api.call("GET", CONNECTION_LISTS.path.format(name="private"), as_=CONTRIBUTOR)
    missing = await api.call("GET", CONNECTION_LISTS.path.format(name="nope"), as_=CONTRIBUTOR)
    admin_missing = await api.call("GET", CONNECTION_FIELDS.path.format(name="nope"), as_=ADMIN)
    bad_name = await api.call("GET", CONNECTION_FIELDS.path.format(name="-bad"), as_=ADMIN)

    assert hidden.status == missing.status == 403
    assert hidden.error["message"].replace("private", "N") == missing.error["message"].replace("nope", "N")
    assert admin_missing.status == 404
    assert bad_name.status == 400 and bad_name.fields == ["name"]


def model_json(*entities: tuple[str, list[str]]) -> bytes:
    return json.dumps(
        {
            "name": "segments",
            "entities": [
                {
                    "$type": "LocalEntity",
                    "name": name,
                    "attributes": [{"name": a, "dataType": "string"} for a in attributes],
                    "partitions": [],
                }
                for name, attributes in entities
            ],
        }
    ).encode()


async def test_segments_and_their_attributes_come_from_model_json(
    api: ApiClient, dev: Services, snapshots: Snapshots
) -> None:
    await snapshots.container.upload_blob(
        "ci/export/model.json",
        model_json(("VIPs", ["Tier", "Email"]), ("ActiveCustomers", ["Email", "Phone", "FirstName"])),
    )

    reply = await api.call("GET", SEGMENTS_LIST.path, as_=CONTRIBUTOR, query={ROOT_QUERY.name: "/ci/export/"})

    assert reply.status == 200, reply.body
    assert reply.json() == {
        "root": "ci/export",
        "items": [
            {"name": "ActiveCustomers", "attributes": ["Email", "Phone", "FirstName"]},  # in column order
            {"name": "VIPs", "attributes": ["Tier", "Email"]},
        ],
        "note": None,
    }


async def test_segments_without_model_json_are_empty_with_a_note_and_bad_roots_are_refused(
    api: ApiClient, dev: Services, snapshots: Snapshots
) -> None:
    await snapshots.container.upload_blob("broken/model.json", b"{not json")

    empty = await api.call("GET", SEGMENTS_LIST.path, as_=ADMIN, query={"root": "nothing/here"})
    climbing = await api.call("GET", SEGMENTS_LIST.path, as_=ADMIN, query={"root": "a/../b"})
    too_long = await api.call("GET", SEGMENTS_LIST.path, as_=ADMIN, query={"root": "x" * 1025})
    broken = await api.call("GET", SEGMENTS_LIST.path, as_=ADMIN, query={"root": "broken"})

    assert empty.status == 200 and empty.json()["items"] == []
    assert "no model.json under 'nothing/here'" in empty.json()["note"]
    assert climbing.status == too_long.status == 400
    assert climbing.fields == too_long.fields == ["root"]
    assert broken.status == 422 and "not valid JSON" in broken.error["message"]
