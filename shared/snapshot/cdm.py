"""Parse a CDM model.json (the metadata file Customer Insights writes next to its segment folders).

Shape (Microsoft's "CDM metadata file - model.json"): `entities[]` with `$type` ("LocalEntity"),
`name`, `attributes[]` (`name`, `dataType`) in column order and `partitions[]` (`name`,
`location` URL, optional `refreshTime` and `fileFormatSettings`).  `fileFormatSettings` is
`{"$type": "CsvFormatSettings", "columnHeaders", "delimiter", "quoteStyle", "csvStyle",
"encoding"}`; absent keys mean no header, ",", QuoteStyle.Csv, CsvStyle.QuoteAlways and UTF-8.
A `$type` naming Parquet, or a `.parquet` location, is a Parquet partition.

Pure: no I/O.  Everything wrong with the document as a whole is a SnapshotError that says what to
fix.  Something wrong with one entity's entry (a `ReferenceEntity`, no attributes, a bad partition)
is kept with that entity and raised only when an export reads it: exports that read other
entities are not affected.  An entry without a name cannot be read by anyone and is skipped.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import SnapshotError
from shared.snapshot.model import CsvFormat, ParquetFormat, PartitionFormat

QUOTE_STYLES = {"quotestyle.csv": '"', "quotestyle.none": ""}
TRUE_STRINGS = frozenset({"true", "1", "yes"})
FALSE_STRINGS = frozenset({"false", "0", "no", ""})


@dataclass(frozen=True)
class CdmPartition:
    name: str
    location: str
    format: PartitionFormat


@dataclass(frozen=True)
class CdmEntity:
    name: str
    attributes: tuple[str, ...]
    partitions: tuple[CdmPartition, ...]
    fingerprint: str  # the entity's entry as canonical JSON (feeds the snapshot id)


@dataclass(frozen=True)
class CdmModel:
    entities: Mapping[str, CdmEntity]
    unreadable: Mapping[str, str] = field(default_factory=dict)  # entity name -> why it cannot be read

    def find(self, entity: str) -> CdmEntity | None:
        """The entity by exact name, else by a unique case-insensitive match; SnapshotError when it cannot be read."""
        names = [*self.entities, *self.unreadable]
        if entity not in names:
            folded = [name for name in names if name.casefold() == entity.casefold()]
            if len(folded) != 1:
                return None
            entity = folded[0]
        if entity in self.unreadable:
            raise SnapshotError(self.unreadable[entity])
        return self.entities[entity]


def parse_model(raw: bytes, where: str) -> CdmModel:
    """Parse model.json bytes; `where` (container/path) goes into error messages."""
    if not raw.strip():
        raise SnapshotError(f"{where} is empty: Customer Insights must finish writing it, or remove it")
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{where} is not valid JSON ({_json_reason(exc)}): re-run the CI export") from None
    except RecursionError:
        raise SnapshotError(f"{where} is not valid JSON (nested too deeply): re-run the CI export") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("entities"), list):
        raise SnapshotError(f"{where} has no 'entities' list: it is not a CDM model.json")
    entities: dict[str, CdmEntity] = {}
    unreadable: dict[str, str] = {}
    for item in doc["entities"]:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = item["name"]
        entities.pop(name, None)
        unreadable.pop(name, None)
        try:
            entities[name] = _entity(item, f"{where}: entity {name!r}")
        except SnapshotError as exc:
            unreadable[name] = exc.message
    return CdmModel(entities, unreadable)


def _entity(item: dict[str, Any], where: str) -> CdmEntity:
    kind = item.get("$type", "LocalEntity")
    if kind != "LocalEntity":
        raise SnapshotError(
            f"{where} is a {str(kind)[:40]}; only LocalEntity (with attributes and partitions) can be read: "
            "export the segment itself from Customer Insights, or map another segment"
        )
    attributes = item.get("attributes")
    if not isinstance(attributes, list) or not attributes:
        raise SnapshotError(f"{where} lists no attributes")
    names: list[str] = []
    for index, attribute in enumerate(attributes):
        name = attribute.get("name") if isinstance(attribute, dict) else None
        if not isinstance(name, str) or not name:
            raise SnapshotError(f"{where}: attributes[{index}] has no name")
        names.append(name)
    if len({n.casefold() for n in names}) != len(names):
        raise SnapshotError(f"{where} lists an attribute name twice")
    partitions = item.get("partitions") or []
    if not isinstance(partitions, list):
        raise SnapshotError(f"{where}: 'partitions' is not a list")
    parsed = tuple(_partition(p, f"{where}: partitions[{i}]") for i, p in enumerate(partitions))
    fingerprint = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return CdmEntity(item["name"], tuple(names), parsed, fingerprint)


def _partition(item: object, where: str) -> CdmPartition:
    if not isinstance(item, dict):
        raise SnapshotError(f"{where} is not an object")
    location = item.get("location")
    if not isinstance(location, str) or not location.strip():
        raise SnapshotError(f"{where} has no location")
    name = item.get("name") if isinstance(item.get("name"), str) else location
    settings = item.get("fileFormatSettings")
    return CdmPartition(str(name), location.strip(), partition_format(settings, location, where))


def partition_format(settings: object, location: str, where: str) -> PartitionFormat:
    """The format a partition's `fileFormatSettings` (and its location's extension) describe."""
    path = location.split("?", 1)[0].lower()
    if settings is None:
        return ParquetFormat() if path.endswith(".parquet") else CsvFormat()
    if not isinstance(settings, dict):
        raise SnapshotError(f"{where}: fileFormatSettings is not an object")
    kind = str(settings.get("$type", "CsvFormatSettings"))
    if "parquet" in kind.lower():
        return ParquetFormat()
    if kind != "CsvFormatSettings":
        raise SnapshotError(f"{where}: fileFormatSettings $type {kind!r} is not supported (CSV or Parquet)")
    if path.endswith(".parquet"):
        return ParquetFormat()
    return CsvFormat(
        header=_flag(settings.get("columnHeaders", False), f"{where}: columnHeaders"),
        delimiter=_delimiter(settings.get("delimiter", ","), where),
        quote_char=_quote(settings.get("quoteStyle", "QuoteStyle.Csv"), where),
        encoding=_encoding(settings.get("encoding", "UTF-8"), where),
    )


def _flag(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_STRINGS | FALSE_STRINGS:
        return value.strip().lower() in TRUE_STRINGS
    raise SnapshotError(f"{where} must be true or false")


def _delimiter(value: object, where: str) -> str:
    if not isinstance(value, str) or len(value) != 1 or value in '\r\n"':
        raise SnapshotError(f"{where}: delimiter must be a single character other than a quote or a line break")
    return value


def _quote(value: object, where: str) -> str:
    quote = QUOTE_STYLES.get(str(value).strip().lower())
    if quote is None:
        raise SnapshotError(f"{where}: quoteStyle must be QuoteStyle.Csv or QuoteStyle.None")
    return quote


def _encoding(value: object, where: str) -> str:
    try:
        name = codecs.lookup(str(value).strip()).name
    except (LookupError, ValueError):
        raise SnapshotError(f"{where}: encoding {str(value)[:40]!r} is unknown") from None
    return "utf-8" if name in ("utf-8", "utf-8-sig") else name


def _json_reason(exc: UnicodeDecodeError | json.JSONDecodeError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return "it is not UTF-8"


__all__ = ["CdmEntity", "CdmModel", "CdmPartition", "parse_model", "partition_format"]
