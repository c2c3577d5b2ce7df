"""model.json parsing (shared/snapshot/cdm.py) on exact examples: each format setting, and each refusal's reason.

tests/snapshot/test_parts.py checks the documented defaults and tests/badinput/test_prop_snapshot.py that any
document parses or is refused cleanly; these pin what each setting means and which message names what to fix.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from shared.errors import SnapshotError
from shared.snapshot.cdm import CdmModel, parse_model, partition_format
from shared.snapshot.model import CsvFormat, ParquetFormat

WHERE = "c/model.json"
LOCATION = "https://a.blob.core.windows.net/c/Seg/p1.csv"


def entity(name: str = "Seg", **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "$type": "LocalEntity",
        "name": name,
        "attributes": [{"name": "Email", "dataType": "string"}, {"name": "Tier"}],
        "partitions": [{"name": "p1", "location": LOCATION}],
    }
    item.update(fields)
    return item


def model(*entities: Any) -> CdmModel:
    return parse_model(json.dumps({"name": "m", "entities": list(entities)}).encode(), WHERE)


def unreadable(item: dict[str, Any]) -> str:
    return model(item).unreadable[item["name"]]


def csv(settings: dict[str, Any], location: str = LOCATION) -> Any:
    return partition_format({"$type": "CsvFormatSettings", **settings}, location, "p")


def test_an_entity_is_its_attributes_in_order_and_its_partitions() -> None:
    item = entity(
        partitions=[
            {"name": "p1", "location": f" {LOCATION} "},
            {"location": "https://a.blob.core.windows.net/c/Seg/p2.csv"},  # no name: the location names it
            {"name": 7, "location": "https://a.blob.core.windows.net/c/Seg/p3.csv"},
        ]
    )

    seg = model(item).find("Seg")

    assert seg is not None
    assert seg.name == "Seg"
    assert seg.attributes == ("Email", "Tier")
    assert [(p.name, p.location) for p in seg.partitions] == [
        ("p1", LOCATION),
        ("https://a.blob.core.windows.net/c/Seg/p2.csv", "https://a.blob.core.windows.net/c/Seg/p2.csv"),
        ("https://a.blob.core.windows.net/c/Seg/p3.csv", "https://a.blob.core.windows.net/c/Seg/p3.csv"),
    ]
    assert seg.fingerprint == json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def test_an_entity_without_partitions_has_none_and_a_missing_type_is_a_local_entity() -> None:
    item = entity(partitions=None)
    del item["$type"]

    seg = model(item).find("Seg")

    assert seg is not None and seg.partitions == ()


def test_find_prefers_the_exact_name_and_folds_case_only_when_unambiguous() -> None:
    found = model(entity("Seg"), entity("SEG"), entity("Other"))

    assert found.find("Seg") is not None and found.find("Seg").name == "Seg"  # type: ignore[union-attr]
    assert found.find("SEG").name == "SEG"  # type: ignore[union-attr]
    assert found.find("seg") is None  # two entities fold to it
    assert found.find("other").name == "Other"  # type: ignore[union-attr]
    assert found.find("nothing") is None


def test_an_unreadable_entity_fails_only_when_it_is_found() -> None:
    found = model(entity("Ref", **{"$type": "ReferenceEntity"}), entity("Seg"))

    assert found.find("Seg") is not None
    with pytest.raises(SnapshotError) as caught:
        found.find("ref")
    assert caught.value.message == (
        f"{WHERE}: entity 'Ref' is a ReferenceEntity; only LocalEntity (with attributes and partitions) can be read: "
        "export the segment itself from Customer Insights, or map another segment"
    )


def test_a_later_entry_with_the_same_name_replaces_the_earlier_one() -> None:
    good_then_bad = model(entity("Seg"), entity("Seg", attributes=[]))
    bad_then_good = model(entity("Seg", attributes=[]), entity("Seg", attributes=[{"name": "Only"}]))

    assert "Seg" not in good_then_bad.entities and "Seg" in good_then_bad.unreadable
    assert "Seg" not in bad_then_good.unreadable
    assert bad_then_good.entities["Seg"].attributes == ("Only",)


def test_entries_without_a_name_are_skipped() -> None:
    found = model("text", {"name": 3}, {"attributes": []}, entity("Seg"))

    assert list(found.entities) == ["Seg"] and not found.unreadable


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"$type": "X" * 60}, f"is a {'X' * 40}; only LocalEntity"),
        ({"attributes": []}, "lists no attributes"),
        ({"attributes": None}, "lists no attributes"),
        ({"attributes": {"name": "Email"}}, "lists no attributes"),
        ({"attributes": [{"name": "Email"}, "Tier"]}, ": attributes[1] has no name"),
        ({"attributes": [{"name": "Email"}, {"name": ""}]}, ": attributes[1] has no name"),
        ({"attributes": [{"name": 5}]}, ": attributes[0] has no name"),
        ({"attributes": [{"name": "Email"}, {"name": "EMAIL"}]}, "lists an attribute name twice"),
        ({"partitions": {"location": LOCATION}}, ": 'partitions' is not a list"),
        ({"partitions": [{"location": LOCATION}, "p2"]}, ": partitions[1] is not an object"),
        ({"partitions": [{"name": "p"}]}, ": partitions[0] has no location"),
        ({"partitions": [{"location": "  "}]}, ": partitions[0] has no location"),
        ({"partitions": [{"location": 3}]}, ": partitions[0] has no location"),
    ],
)
def test_each_broken_entity_says_what_is_wrong(fields: dict[str, Any], reason: str) -> None:
    message = unreadable(entity(**fields))

    assert message.startswith(f"{WHERE}: entity 'Seg'")
    assert reason in message, message


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "c/model.json is empty: Customer Insights must finish writing it, or remove it"),
        (b" \n ", "c/model.json is empty"),
        (b"{", "c/model.json is not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
        (b'{"entities": []}\xff', "c/model.json is not valid JSON (it is not UTF-8): re-run the CI export"),
        (b"[" * 100_000 + b"]" * 100_000, "c/model.json is not valid JSON (nested too deeply)"),
        (b"[]", "c/model.json has no 'entities' list: it is not a CDM model.json"),
        (b'{"entities": {}}', "c/model.json has no 'entities' list"),
        (b'{"name": "m"}', "c/model.json has no 'entities' list"),
    ],
)
def test_a_broken_document_says_what_to_fix(raw: bytes, reason: str) -> None:
    with pytest.raises(SnapshotError) as caught:
        parse_model(raw, WHERE)

    assert caught.value.message.startswith(reason), caught.value.message


def test_a_byte_order_mark_is_allowed() -> None:
    raw = ("\ufeff" + json.dumps({"entities": [entity()]})).encode()

    assert parse_model(raw, WHERE).find("Seg") is not None


@pytest.mark.parametrize(
    ("settings", "location", "expected"),
    [
        (None, LOCATION, CsvFormat()),
        (None, "https://a/c/P.PARQUET?sv=1", ParquetFormat()),
        (None, "https://a/c/p.csv?x=.parquet", CsvFormat()),  # the query is not the extension
        ({"$type": "ParquetFormatSettings"}, LOCATION, ParquetFormat()),
        ({"$type": "parquet"}, LOCATION, ParquetFormat()),
        ({}, LOCATION, CsvFormat()),  # no $type: CSV settings with every default
        ({"$type": "CsvFormatSettings"}, "https://a/c/p.parquet", ParquetFormat()),  # the extension wins
    ],
)
def test_the_format_follows_the_settings_and_the_extension(settings: Any, location: str, expected: Any) -> None:
    assert partition_format(settings, location, "p") == expected


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"columnHeaders": True}, CsvFormat(header=True)),
        ({"columnHeaders": False}, CsvFormat(header=False)),
        ({"columnHeaders": " TRUE "}, CsvFormat(header=True)),
        ({"columnHeaders": "1"}, CsvFormat(header=True)),
        ({"columnHeaders": "yes"}, CsvFormat(header=True)),
        ({"columnHeaders": "no"}, CsvFormat(header=False)),
        ({"columnHeaders": "0"}, CsvFormat(header=False)),
        ({"columnHeaders": ""}, CsvFormat(header=False)),
        ({"columnHeaders": "False"}, CsvFormat(header=False)),
        ({"delimiter": ";"}, CsvFormat(delimiter=";")),
        ({"delimiter": "\t"}, CsvFormat(delimiter="\t")),
        ({"delimiter": "X"}, CsvFormat(delimiter="X")),
        ({"quoteStyle": "QuoteStyle.None"}, CsvFormat(quote_char="")),
        ({"quoteStyle": " quotestyle.csv "}, CsvFormat(quote_char='"')),
        ({"encoding": "UTF-8"}, CsvFormat(encoding="utf-8")),
        ({"encoding": "utf-8-sig"}, CsvFormat(encoding="utf-8")),
        ({"encoding": " latin-1 "}, CsvFormat(encoding="iso8859-1")),
        ({"encoding": "UTF-16"}, CsvFormat(encoding="utf-16")),
    ],
)
def test_each_csv_setting_is_read(settings: dict[str, Any], expected: CsvFormat) -> None:
    assert csv(settings) == expected


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ("csv", "p: fileFormatSettings is not an object"),
        (
            {"$type": "JsonFormatSettings"},
            "p: fileFormatSettings $type 'JsonFormatSettings' is not supported (CSV or Parquet)",
        ),
        ({"columnHeaders": "maybe"}, "p: columnHeaders must be true or false"),
        ({"columnHeaders": 1}, "p: columnHeaders must be true or false"),
        ({"delimiter": ";;"}, "p: delimiter must be a single character other than a quote or a line break"),
        ({"delimiter": ""}, "p: delimiter must be a single character"),
        ({"delimiter": '"'}, "p: delimiter must be a single character"),
        ({"delimiter": "\n"}, "p: delimiter must be a single character"),
        ({"delimiter": "\r"}, "p: delimiter must be a single character"),
        ({"delimiter": 44}, "p: delimiter must be a single character"),
        ({"quoteStyle": "QuoteStyle.Single"}, "p: quoteStyle must be QuoteStyle.Csv or QuoteStyle.None"),
        ({"encoding": "klingon"}, "p: encoding 'klingon' is unknown"),
        ({"encoding": "x" * 50}, f"p: encoding '{'x' * 40}' is unknown"),
        ({"encoding": "utf-8\x00"}, "p: encoding 'utf-8\\x00' is unknown"),
    ],
)
def test_each_bad_setting_says_what_is_wrong(settings: Any, reason: str) -> None:
    with pytest.raises(SnapshotError) as caught:
        partition_format(
            {"$type": "CsvFormatSettings", **settings} if isinstance(settings, dict) else settings, LOCATION, "p"
        )

    assert caught.value.message.startswith(reason), caught.value.message


def test_a_model_built_without_unreadable_entities_finds_only_its_entities() -> None:
    seg = model(entity()).entities["Seg"]

    assert CdmModel({"Seg": seg}).find("seg") is seg
    assert CdmModel({}).find("Seg") is None


def test_parsed_entries_are_immutable_values() -> None:
    found = model(entity())
    seg = found.entities["Seg"]
    for value, name in ((found, "entities"), (seg, "name"), (seg.partitions[0], "location")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, name, "x")


def test_the_fingerprint_is_ascii_json_whatever_the_names() -> None:
    item = entity(attributes=[{"name": "Prénom"}, {"name": "Email"}])

    assert model(item).entities["Seg"].fingerprint.count("\\u00e9") == 1  # é, escaped: stable bytes for the id
