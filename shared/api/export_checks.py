"""What an export is checked against before it is saved: the AC account and the segment snapshots.

The AC checks run as a guest of the account (shared/pipeline/lane.py): a person is waiting, so they never
wait for a run's lane, and they stay inside the account's budget together with it.

- the list id exists in ActiveCampaign (400 naming `listId`);
- each custom field mapping names an AC field by id or title (400 naming
  `mapping.customFields.<i>.field`);
- each mapped attribute exists in every segment's newest snapshot (400 naming the mapping
  field); a segment with no snapshot yet gives a warning, not an error.
All failures are collected and reported in one 400.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Final

from shared.activecampaign import AcAuthError, AcField, AcNotFound, ActiveCampaignClient, fields_named
from shared.errors import ErrorDetail, InvalidInput, SnapshotError
from shared.models import AttributeMapping, Connection, ExportRequest
from shared.services import Services
from shared.snapshot import SegmentSnapshot, find_snapshot, resolve_attribute

MAX_LISTED_ATTRIBUTES: Final = 30


async def check_export(services: Services, connection: Connection, request: ExportRequest) -> list[str]:
    """Raise InvalidInput naming every failing field; return the warnings to show with the saved export."""
    try:
        async with services.ac_guest_for(connection) as client:
            details = await check_list(client, request.list_id)
            if request.mapping.custom_fields:
                details += check_custom_fields(await client.fields(), request.mapping)
    except AcAuthError:
        raise InvalidInput.for_field(
            "connection",
            f"ActiveCampaign account {connection.hostname} refused the connection's API key: an admin must update "
            f"connection {request.connection!r} with a working key",
        ) from None
    attribute_details, warnings = await check_segments(services, request)
    details += attribute_details
    if details:
        fields = ", ".join(d.field for d in details)
        raise InvalidInput(
            f"the export does not fit its ActiveCampaign account or segments: check {fields}", details=details
        )
    return warnings


async def check_list(client: ActiveCampaignClient, list_id: int) -> list[ErrorDetail]:
    try:
        await client.get_list(list_id)
    except AcNotFound:
        return [ErrorDetail("listId", f"list {list_id} does not exist in ActiveCampaign account {client.host}")]
    return []


def check_custom_fields(fields: list[AcField], mapping: AttributeMapping) -> list[ErrorDetail]:
    details: list[ErrorDetail] = []
    for index, item in enumerate(mapping.custom_fields):
        wanted = item.field.strip()
        titled = fields_named(fields, wanted)
        if len(titled) == 1:
            continue
        where = f"mapping.customFields.{index}.field"
        if titled:
            ids = ", ".join(f.id for f in titled)
            details.append(
                ErrorDetail(where, f"{len(titled)} ActiveCampaign fields are titled {wanted!r}: use an id ({ids})")
            )
        else:
            details.append(ErrorDetail(where, f"no ActiveCampaign custom field has the id or title {wanted!r}"))
    return details


def mapped_attributes(mapping: AttributeMapping) -> Iterator[tuple[str, str]]:
    """(field path, attribute) for every attribute the export reads."""
    yield "mapping.email", mapping.email
    for path, attribute in (
        ("mapping.firstName", mapping.first_name),
        ("mapping.lastName", mapping.last_name),
        ("mapping.phone", mapping.phone),
    ):
        if attribute:
            yield path, attribute
    for index, item in enumerate(mapping.custom_fields):
        yield f"mapping.customFields.{index}.attribute", item.attribute


async def check_segments(services: Services, request: ExportRequest) -> tuple[list[ErrorDetail], list[str]]:
    root = request.snapshot_root or services.settings.snapshot_root
    container = services.snapshot_container

    async def newest(segment: str) -> SegmentSnapshot | str:
        try:
            return await find_snapshot(container, root, segment)
        except SnapshotError as exc:
            return f"segment {segment!r} cannot be checked yet: {exc.message}"

    found = await asyncio.gather(*(newest(s) for s in request.segments))
    details: list[ErrorDetail] = []
    warnings: list[str] = []
    for snapshot in found:
        if isinstance(snapshot, str):
            warnings.append(snapshot)
            continue
        for path, attribute in mapped_attributes(request.mapping):
            try:
                resolve_attribute(snapshot, attribute)
            except SnapshotError:
                details.append(ErrorDetail(path, _missing(snapshot, attribute)))
    return details, warnings


def _missing(snapshot: SegmentSnapshot, attribute: str) -> str:
    if snapshot.attributes_from == "header row":  # without model.json the names are a file's first row: not listed
        return (
            f"segment {snapshot.entity!r} has no attribute {attribute!r} (its attributes come from the first row of "
            "its partitions, because model.json does not describe it)"
        )
    names = list(snapshot.attributes[:MAX_LISTED_ATTRIBUTES])
    more = len(snapshot.attributes) - len(names)
    listed = ", ".join(names) + (f" and {more} more" if more > 0 else "")
    return f"segment {snapshot.entity!r} has no attribute {attribute!r}; its attributes are: {listed}"


__all__ = ["check_custom_fields", "check_export", "check_list", "check_segments", "mapped_attributes"]
