"""Custom field values, formatted per ActiveCampaign field type (vectorised).

date -> YYYY-MM-DD; datetime -> ISO 8601 in UTC (YYYY-MM-DDTHH:MM:SS+00:00);
multi-value fields (multiselect, checkbox, listbox) -> ||a||b||; everything else is
passed through trimmed.  Empty values become null (omitted, never sent as "").
A value that cannot be converted becomes null and is flagged, so the row is
reported and the bad value is not sent.
"""

from __future__ import annotations

from typing import Any, Final, TypeAlias, cast

import pyarrow as pa
import pyarrow.compute as pc

MULTI_VALUE_TYPES: Final = frozenset({"multiselect", "checkbox", "listbox"})
DATE_TYPES: Final = frozenset({"date"})
DATETIME_TYPES: Final = frozenset({"datetime"})
_DATE_FORMATS: Final = ("%m/%d/%Y", "%d.%m.%Y")
_DATETIME_FORMATS: Final = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
)

Column: TypeAlias = "pa.ChunkedArray[Any]"


def blank_to_null(values: Column) -> Column:
    trimmed = pc.utf8_trim_whitespace(values)
    return cast(Column, pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed))


def format_values(values: Column, field_type: str) -> tuple[Column, Column]:
    """(formatted values, flags of values that could not be converted)."""
    clean = blank_to_null(values)
    kind = field_type.lower()
    if kind in DATE_TYPES:
        formatted = _dates(clean)
    elif kind in DATETIME_TYPES:
        formatted = _datetimes(clean)
    elif kind in MULTI_VALUE_TYPES:
        formatted = _multi(clean)
    else:
        return clean, cast(Column, pc.is_null(pc.is_null(clean)))  # all false, same length
    bad = pc.and_(pc.is_valid(clean), pc.is_null(formatted))
    return formatted, cast(Column, bad)


def _coalesce_parsed(text: Column, formats: tuple[str, ...]) -> Column:
    parsed = [pc.strptime(text, format=f, unit="s", error_is_null=True) for f in formats]
    return cast(Column, pc.coalesce(*parsed))


def _dates(clean: Column) -> Column:
    # ISO dates and datetimes: the calendar date as written (no time-zone shift), checked strictly.
    head = pc.utf8_slice_codeunits(clean, 0, 10)
    iso_like = pc.match_substring_regex(clean, r"^\d{4}-\d{2}-\d{2}([T ].*)?$")
    iso = pc.strptime(
        pc.if_else(iso_like, head, pa.scalar(None, pa.string())), format="%Y-%m-%d", unit="s", error_is_null=True
    )
    iso_text = pc.strftime(iso, format="%Y-%m-%d")
    iso_ok = pc.if_else(pc.equal(iso_text, head), iso_text, pa.scalar(None, pa.string()))  # 2024-02-30 is refused
    other = pc.strftime(_coalesce_parsed(clean, _DATE_FORMATS), format="%Y-%m-%d")
    return cast(Column, pc.coalesce(iso_ok, pc.if_else(iso_like, pa.scalar(None, pa.string()), other)))


def _datetimes(clean: Column) -> Column:
    no_fraction = pc.replace_substring_regex(clean, r"(\d{2}:\d{2}:\d{2})\.\d+", r"\1")
    normal = pc.replace_substring_regex(no_fraction, r"Z$", "+0000")
    normal = pc.replace_substring_regex(normal, r"([+-]\d{2}):(\d{2})$", r"\1\2")
    parsed = _coalesce_parsed(cast(Column, normal), _DATETIME_FORMATS)
    text = pc.strftime(parsed, format="%Y-%m-%dT%H:%M:%S")
    return cast(Column, pc.binary_join_element_wise(text, pa.scalar("+00:00"), ""))


def _multi(clean: Column) -> Column:
    # "a;b", "a , b|c" and AC's own "||a||b||" all become ||a||b||; separators at either end or repeated hold no
    # option (";;" is no value, "a;;b" is a and b)
    body = pc.replace_substring_regex(clean, r"^[\s;,|]+|[\s;,|]+$", "")
    parts = pc.split_pattern_regex(body, r"(?:\s*[;,|]\s*)+")
    joined = pc.binary_join(parts, "||")
    wrapped = pc.binary_join_element_wise(pa.scalar("||"), joined, pa.scalar("||"), "")
    return cast(Column, pc.if_else(pc.equal(body, ""), pa.scalar(None, pa.string()), wrapped))


__all__ = ["MULTI_VALUE_TYPES", "blank_to_null", "format_values"]
