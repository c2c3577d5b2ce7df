"""Which of some contacts have left a list themselves, learnt at the fewest requests.

Two ways to know, each inside the account's budget (every request goes through the client):
- the list's unsubscribed members, `GET /contacts?listid=&status=2`, 100 per page, paged by id;
- a look-up per contact: `GET /contacts?email=` then `GET /contacts/{id}/contactLists` (two requests each),
  which also shows a bounced status (3).
For d contacts: one look-up alone when d = 1 (2 requests).  Otherwise the first page of members is fetched (1
request; its meta.total says how many pages there are), then the remaining p pages are read if p <= 2·d' (d'
the contacts that page did not settle), else the d' contacts are looked up: at most 1 + min(p, 2·d') requests.
Paging stops as soon as every contact is settled.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Collection
from typing import Final

from shared.activecampaign.client import PAGE_SIZE, ActiveCampaignClient

UNSUBSCRIBED: Final = 2
BOUNCED: Final = 3  # UNCONFIRMED numbering (activecampaign-api.md §7.4)
LOOKUP_CONCURRENCY: Final = 4


async def left_the_list(client: ActiveCampaignClient, list_id: int, emails: Collection[str]) -> dict[str, int]:
    """For each of `emails` (lowercased) found unsubscribed (2) or bounced (3) on the list: that status."""
    wanted = {e.strip().lower() for e in emails if e}
    if len(wanted) <= 1:
        return await _look_up(client, list_id, wanted)
    page, last, total = await client.unsubscribed_page(list_id)
    found = dict.fromkeys((e for e in page if e in wanted), UNSUBSCRIBED)
    left = wanted - found.keys()
    pages = math.ceil(max(0, total - len(page)) / PAGE_SIZE)
    if not left or pages == 0 or len(page) < PAGE_SIZE:
        return found
    if pages > 2 * len(left):
        return found | await _look_up(client, list_id, left)
    while left and len(page) == PAGE_SIZE:
        page, last, _ = await client.unsubscribed_page(list_id, last)
        settled = left.intersection(page)
        found.update(dict.fromkeys(settled, UNSUBSCRIBED))
        left -= settled
    return found


async def _look_up(client: ActiveCampaignClient, list_id: int, emails: Collection[str]) -> dict[str, int]:
    gate = asyncio.Semaphore(LOOKUP_CONCURRENCY)
    found: dict[str, int] = {}

    async def one(email: str) -> None:
        async with gate:
            contact_id = await client.find_contact_id(email)
            status = None if contact_id is None else await client.list_status(contact_id, list_id)
        if status is not None and status in (UNSUBSCRIBED, BOUNCED):
            found[email] = status

    await asyncio.gather(*(one(e) for e in sorted(emails)))
    return found


__all__ = ["BOUNCED", "UNSUBSCRIBED", "left_the_list"]
