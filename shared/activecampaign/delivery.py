"""Deliver any number of contacts through bulk import, and learn the fate of each one.

- `request_groups` cuts contacts into requests by count and exact serialised bytes (a contact too
  big for any request is refused on the spot);
- `deliver` sends the requests (isolating contacts AC calls invalid), polls import/info for every
  accepted batch, and reports per contact: accepted and confirmed, or rejected with a reason (for a
  contact AC dropped after its 200, what AC's answer says: shared/activecampaign/dropped.py).
The shard worker uses `request_groups` with its own checkpointed loop; `deliver` is the whole job
in one call, for callers that need no checkpoints.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from shared.activecampaign.bulk import import_contacts
from shared.activecampaign.client import ActiveCampaignClient
from shared.activecampaign.dropped import drop_reason
from shared.activecampaign.payload import batch_ranges, fits_alone
from shared.config import AcLimits

TOO_LARGE: Final = "the contact is larger than ActiveCampaign's 400 KB bulk-import request limit"


def request_groups(payloads: Sequence[bytes], limits: AcLimits) -> tuple[list[list[int]], dict[int, str]]:
    """(contact positions per request, contacts refused before sending with the reason).  Deterministic."""
    sizes = [len(p) for p in payloads]
    too_large = {i: TOO_LARGE for i, size in enumerate(sizes) if not fits_alone(size, limits.bulk_max_bytes)}
    sendable = [i for i in range(len(sizes)) if i not in too_large]
    ranges = batch_ranges(
        [sizes[i] for i in sendable], max_count=limits.bulk_max_contacts, max_bytes=limits.bulk_max_bytes
    )
    return [sendable[a:b] for a, b in ranges], too_large


@dataclass
class Delivery:
    confirmed: set[int] = field(default_factory=set)
    rejected: dict[int, str] = field(default_factory=dict)  # position -> AC's reason (or ours)
    batch_ids: list[str] = field(default_factory=list)


async def deliver(
    client: ActiveCampaignClient, emails: Sequence[str], payloads: Sequence[bytes], limits: AcLimits
) -> Delivery:
    groups, refused = request_groups(payloads, limits)
    outcome = Delivery(rejected=dict(refused))
    gate = asyncio.Semaphore(limits.send_concurrency)

    async def send(group: list[int]) -> None:
        async with gate:
            result = await import_contacts(client, [payloads[i] for i in group])
        outcome.rejected.update({group[r.index]: r.reason for r in result.rejected})
        for batch_id, carried in result.accepted:
            positions = [group[i] for i in carried]
            outcome.batch_ids.append(batch_id)
            info = await client.wait_for_batch(batch_id)
            if info.status != "completed":
                why = info.lost or info.status
                reason = f"ActiveCampaign could not process the import ({why})"
                outcome.rejected.update(dict.fromkeys(positions, reason))
                continue
            dropped = {e.strip().lower() for e in info.failure}
            for position in positions:
                email = emails[position].strip().lower()
                if email in dropped:
                    outcome.rejected[position] = drop_reason(info.reasons.get(email))
                else:
                    outcome.confirmed.add(position)

    await asyncio.gather(*(send(group) for group in groups))
    return outcome


__all__ = ["TOO_LARGE", "Delivery", "deliver", "request_groups"]
