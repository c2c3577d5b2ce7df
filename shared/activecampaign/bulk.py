"""Import one request's worth of contacts, isolating contacts that AC refuses as invalid.

A validation 400 rejects the whole request and queues nothing.  AC names the bad contacts
by index, 0- or 1-based (UNCONFIRMED; an index 0, or one equal to the request's size,
proves which).  Once the base is known, the named contacts are rejected with AC's reason
and the rest go at once.  While it is not, the contacts neither reading names go at once,
and one probe request holding the contacts only the 0-based reading names settles it
(accepted: 1-based, they were good; refused: its own indices show the base), so a wrong
guess never loses a good contact.  Only indices that name no contact of the request make
it halve.

Two refusals are never split: one that names no contact (AC gave only reasons), and one
whose reasons name the list (e.g. a list deleted mid-run, refused as a whole batch):
splitting cannot help them, and for a deleted list every half would be refused again,
down to single contacts on the 20/min budget.  Their contacts are rejected with AC's
reason, and `list_refused` tells the caller to check the list.

Isolating costs at most MAX_EXTRA_REQUESTS requests beyond the first per original
request; when they are spent, the contacts still in doubt are rejected with a reason
that says so (they go again next run).  Every contact ends either in an accepted batch
or in `rejected` with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from shared.activecampaign.client import ActiveCampaignClient
from shared.activecampaign.errors import AcBatchInvalid, FailureReason
from shared.activecampaign.payload import bulk_body

MAX_EXTRA_REQUESTS: Final = 8  # per original request, spent isolating the contacts AC refused
NAMES_LIST: Final = re.compile(r"\blists?\b", re.IGNORECASE)
MAX_REASON_CHARS: Final = 300


@dataclass(frozen=True)
class Rejection:
    index: int  # position in the contacts given to import_contacts
    reason: str


@dataclass
class ImportResult:
    accepted: list[tuple[str, list[int]]] = field(default_factory=list)  # (batchId, indices it carried)
    rejected: list[Rejection] = field(default_factory=list)
    list_refused: bool = False  # AC refused a request for a reason that names the list: check that it exists


async def import_contacts(client: ActiveCampaignClient, payloads: Sequence[bytes]) -> ImportResult:
    job = _Import(client, payloads)
    if payloads:
        await job.send(list(range(len(payloads))))
    return job.result


class _Import:
    def __init__(self, client: ActiveCampaignClient, payloads: Sequence[bytes]) -> None:
        self.client = client
        self.payloads = payloads
        self.result = ImportResult()
        self.base: int | None = None  # AC's index base, once a refusal proves it (0 or 1, UNCONFIRMED)
        self.requests = 0
        self.last_reason = ""

    async def attempt(self, group: list[int]) -> list[FailureReason] | None:
        """Send `group`: None when AC accepted it, else its refusal's reasons.  Past the cap, nothing is sent:
        the group is rejected saying why, and [] is returned."""
        if self.requests > MAX_EXTRA_REQUESTS:
            why = (
                f"not sent: ActiveCampaign refused the request ({self.last_reason}) and isolating the contacts it "
                f"refused would take more than {MAX_EXTRA_REQUESTS} extra requests"
            )
            self.reject(group, why)
            return []
        self.requests += 1
        try:
            batch_id = await self.client.bulk_import(bulk_body([self.payloads[i] for i in group]), len(group))
        except AcBatchInvalid as exc:
            self.last_reason = _text(exc.reasons)
            return exc.reasons
        self.result.accepted.append((batch_id, group))
        return None

    def reject(self, group: list[int], reason: str) -> None:
        self.result.rejected.extend(Rejection(i, reason) for i in group)

    async def send(self, group: list[int]) -> None:
        if group and (reasons := await self.attempt(group)):
            await self.refused(group, reasons)

    async def refused(self, group: list[int], reasons: list[FailureReason]) -> None:
        names_list = any(NAMES_LIST.search(r.reason) for r in reasons)
        indexed = [(r.index, r.reason) for r in reasons if r.index is not None]
        if names_list or not indexed:  # never split: it cannot help
            self.result.list_refused = self.result.list_refused or names_list
            self.reject(group, f"ActiveCampaign refused the whole request: {_text(reasons)}")
            return
        self.learn([index for index, _ in indexed], len(group))
        if len(group) == 1:
            self.reject(group, _text(reasons))
            return
        if self.base is not None:
            named = _positions(indexed, self.base, len(group))
            if named:  # AC named exactly these contacts: rejected with its reason; the rest go now
                self.result.rejected.extend(Rejection(group[pos], text) for pos, text in sorted(named.items()))
                await self.send([g for pos, g in enumerate(group) if pos not in named])
                return
        else:
            as0, as1 = _positions(indexed, 0, len(group)), _positions(indexed, 1, len(group))
            if as0 or as1:
                await self.ambiguous(group, as0, as1)
                return
        middle = len(group) // 2  # AC named contacts this request does not have: halve (bounded by the cap)
        await self.send(group[:middle])
        await self.send(group[middle:])

    async def ambiguous(self, group: list[int], as0: dict[int, str], as1: dict[int, str]) -> None:
        """AC named positions, but 0- and 1-based read differently.  The contacts neither reading names go now;
        then one probe, holding the contacts only the 0-based reading names, settles the base: accepted, it is
        1 (they were good); refused, its own reasons name its contacts and show the base."""
        await self.send([g for pos, g in enumerate(group) if pos not in as0 and pos not in as1])
        probe = [pos for pos in sorted(as0) if pos not in as1]
        reasons = await self.attempt([group[pos] for pos in probe]) if probe else []
        if reasons is None:
            self.base = 1
        elif reasons:
            await self.refused([group[pos] for pos in probe], reasons)  # settles the probe, and learns the base
        others = [pos for pos in sorted(as0.keys() | as1.keys()) if pos not in probe]
        if self.base is None:  # still unknown (or the cap is spent): retried as their own request
            await self.send([group[pos] for pos in others])
            return
        named = as0 if self.base == 0 else as1
        self.result.rejected.extend(Rejection(group[pos], named[pos]) for pos in others if pos in named)
        await self.send([group[pos] for pos in others if pos not in named])

    def learn(self, indices: list[int], size: int) -> None:
        """An index of 0 proves 0-based, an index equal to the request's size proves 1-based."""
        if self.base is None:
            if 0 in indices:
                self.base = 0
            elif size in indices:
                self.base = 1


def _positions(indexed: list[tuple[int, str]], base: int, size: int) -> dict[int, str]:
    """The positions AC's indices name when read with this base (those inside the request), with their reason."""
    found: dict[int, str] = {}
    for index, text in indexed:
        if 0 <= index - base < size:
            found.setdefault(index - base, text)
    return found


def _text(reasons: list[FailureReason]) -> str:
    text = "; ".join(dict.fromkeys(r.reason for r in reasons)) or "refused by ActiveCampaign"
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"
