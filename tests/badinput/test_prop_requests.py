"""Properties of the HTTP request bodies: anything a client sends is a model or a 400 that names fields.

Every body goes through shared/api/request.py:parse_body (the HTTP boundary turns its
InvalidInput into the 400 answer; tests/api proves that mapping).  For any bytes, any JSON
value, and any object with the model's own field names holding any JSON values,
parse_body returns the model or raises InvalidInput whose every detail names a field; nothing
else.  Valid bodies round-trip: what the API would store parses back to the same model.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from shared.api.request import parse_body
from shared.errors import InvalidInput
from shared.models import ConnectionRequest, ExportRequest, RunOptions

MODELS: list[type[BaseModel]] = [ConnectionRequest, ExportRequest, RunOptions]
TEXT = st.text(max_size=10)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=15,
)


def aliases(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def parse_or_400(raw: bytes, model: type[BaseModel]) -> BaseModel | None:
    try:
        return parse_body(raw, model)
    except InvalidInput as exc:
        assert exc.status == 400 and exc.code == "invalid_request"
        assert exc.details, exc.message
        assert all(d.field and d.message for d in exc.details)
        assert all(d.field in exc.message for d in exc.details)
        return None


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@settings(max_examples=80, deadline=None)
@given(raw=st.binary(max_size=80))
def test_any_bytes_are_a_model_or_a_400(model: type[BaseModel], raw: bytes) -> None:
    parse_or_400(raw, model)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@settings(max_examples=80, deadline=None)
@given(value=JSON)
def test_any_json_value_is_a_model_or_a_400(model: type[BaseModel], value: Any) -> None:
    parse_or_400(json.dumps(value).encode(), model)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_values_in_the_models_own_fields_are_a_model_or_a_400(model: type[BaseModel], data: st.DataObject) -> None:
    keys = st.sampled_from(aliases(model)) | TEXT
    body = data.draw(st.dictionaries(keys, JSON, max_size=len(aliases(model)) + 1))
    parse_or_400(json.dumps(body).encode(), model)


NAME = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,20}\Z")
WORD = st.text(st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=12)
Strategies = dict[str, st.SearchStrategy[Any]]
CUSTOM_FIELDS = st.lists(
    st.fixed_dictionaries({"attribute": WORD, "field": WORD}), max_size=3, unique_by=lambda f: f["field"].lower()
)
MAPPING_OPTIONAL: Strategies = {"firstName": WORD, "phone": WORD, "customFields": CUSTOM_FIELDS}
EXPORT_REQUIRED: Strategies = {
    "connection": NAME,
    "listId": st.integers(min_value=1, max_value=10**6),
    "segments": st.lists(WORD, min_size=1, max_size=4, unique_by=str.lower),
    "mapping": st.fixed_dictionaries({"email": WORD}, optional=MAPPING_OPTIONAL),
}
EXPORT_OPTIONAL: Strategies = {
    "tags": st.lists(WORD, max_size=3),
    "schedule": st.sampled_from(["refresh", "manual", "0 6 * * *", "*/15 * * * 1-5"]),
    "syncMode": st.sampled_from(["upsert", "mirror"]),
    "leaverAction": st.sampled_from(["unsubscribe", "none"]),
    "maxRemovalPercent": st.floats(min_value=0, max_value=100),
    "excludeAutomations": st.booleans(),
    "snapshotRoot": st.from_regex(r"\A[a-z0-9_]{1,8}(/[a-z0-9_]{1,8}){0,2}\Z"),
    "enabled": st.booleans(),
}
VALID_EXPORT = st.fixed_dictionaries(EXPORT_REQUIRED, optional=EXPORT_OPTIONAL)
CONNECTION_REQUIRED: Strategies = {
    "displayName": WORD,
    "hostname": st.from_regex(r"\A[a-z0-9]{1,10}\.api-us1\.com\Z"),
    "apiKey": st.text("abcdef0123456789", min_size=16, max_size=72).map(lambda k: f"key-{k}"),
    "consent": st.just(True),
}
VALID_CONNECTION = st.fixed_dictionaries(
    CONNECTION_REQUIRED, optional={"usableBy": st.sampled_from(["admins", "admins-and-contributors"])}
)


@settings(max_examples=100, deadline=None)
@given(body=VALID_EXPORT)
def test_a_valid_export_body_round_trips(body: dict[str, Any]) -> None:
    parsed = parse_body(json.dumps(body).encode(), ExportRequest)
    again = parse_body(parsed.model_dump_json(by_alias=True).encode(), ExportRequest)

    assert again == parsed
    assert parsed.list_id == body["listId"] and parsed.segments == body["segments"]
    assert parsed.mapping.email == body["mapping"]["email"]


@settings(max_examples=60, deadline=None)
@given(body=VALID_CONNECTION)
def test_a_valid_connection_body_round_trips_and_keeps_the_key_hidden(body: dict[str, Any]) -> None:
    parsed = parse_body(json.dumps(body).encode(), ConnectionRequest)
    dumped = parsed.model_dump_json(by_alias=True)

    assert parsed.api_key.get_secret_value() == body["apiKey"]
    assert body["apiKey"] not in dumped and body["apiKey"] not in repr(parsed)
    assert parsed.display_name == body["displayName"] and parsed.hostname == body["hostname"]
