"""Import one request's worth of contacts, isolating contacts that AC refuses as invalid.

A validation 400 rejects the whole request and queues nothing.  The contacts AC names
are set aside and the rest go at once; the named ones are retried as their own
request, so a wrong guess about AC's index base (0 or 1, UNCONFIRMED) never loses a
good contact.  When AC names nobody, or no progress is made, the group is bisected.
Every contact ends either in an accepted batch or in `rejected` with AC's reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.activecampaign.client import ActiveCampaignClient
from shared.activecampaign.errors import AcBatchInvalid, FailureReason
from shared.activecampaign.payload import bulk_body


@dataclass(frozen=True)
class Rejection:
    index: int  # position in the contacts given to import_contacts
    reason: str


@dataclass
class ImportResult:
    accepted: list[tuple[str, list[int]]] = field(default_factory=list)  # (batchId, indices it carried)
    rejected: list[Rejection] = field(default_factory=list)


async def import_contacts(client: ActiveCampaignClient, payloads: Sequence[bytes]) -> ImportResult:
    result = ImportResult()
    pending: list[list[int]] = [list(range(len(payloads)))] if payloads else []
    base = _IndexBase()
    while pending:
        group = pending.pop()
        try:
            batch_id = await client.bulk_import(bulk_body([payloads[i] for i in group]), len(group))
        except AcBatchInvalid as exc:
            _split(group, exc.reasons, pending, result, base)
            continue
        result.accepted.append((batch_id, group))
    return result


class _IndexBase:
    """What we have learnt about AC's index base: an index of 0 proves 0-based, len(group) proves 1-based."""

    def __init__(self) -> None:
        self.value: int | None = None

    def learn(self, indices: list[int], size: int) -> None:
        if 0 in indices:
            self.value = 0
        elif size in indices:
            self.value = 1

    def positions(self, index: int, size: int) -> list[int]:
        guesses = [index] if self.value == 0 else [index - 1] if self.value == 1 else [index, index - 1]
        return [g for g in guesses if 0 <= g < size]


def _split(
    group: list[int], reasons: list[FailureReason], pending: list[list[int]], result: ImportResult, base: _IndexBase
) -> None:
    if len(group) == 1:
        text = "; ".join(dict.fromkeys(r.reason for r in reasons)) or "refused by ActiveCampaign"
        result.rejected.append(Rejection(group[0], text))
        return
    indexed = [(r.index, r.reason) for r in reasons if r.index is not None]
    base.learn([index for index, _ in indexed], len(group))
    suspects: dict[int, str] = {}
    for index, text in indexed:
        for pos in base.positions(index, len(group)):
            suspects.setdefault(pos, text)
    if not suspects or len(suspects) == len(group):
        middle = len(group) // 2
        pending.extend([group[:middle], group[middle:]])
        return
    if base.value is not None:  # AC named exactly these contacts: they are rejected with its reason
        result.rejected.extend(Rejection(group[pos], text) for pos, text in sorted(suspects.items()))
    else:  # ambiguous: retry the suspects on their own, so a good neighbour is never lost
        pending.append([group[pos] for pos in sorted(suspects)])
    pending.append([g for pos, g in enumerate(group) if pos not in suspects])  # popped first: good ones go now
