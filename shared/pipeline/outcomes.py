"""Turn a finished shard's checkpoint into one outcome per row, and the shard's counts."""

from __future__ import annotations

from shared.activecampaign.dropped import drop_reason
from shared.pipeline.checkpoint import Checkpoint, ShardCounts
from shared.pipeline.shards import Op, Outcome

OPTED_OUT_REASON = "unsubscribed from the list in ActiveCampaign; not re-subscribed"
LEAVER_OPTED_OUT_REASON = "left the segment; had already unsubscribed in ActiveCampaign"


def shard_outcomes(
    rows: int, checkpoint: Checkpoint, op: Op, stopped: str | None
) -> tuple[list[int], list[str | None], ShardCounts]:
    codes: list[int] = [int(Outcome.NOT_SENT)] * rows
    reasons: list[str | None] = [stopped or "not sent"] * rows
    sent = 0
    unconfirmed = f"sent, but ActiveCampaign never confirmed it: {stopped or 'the shard stopped'}"
    for record in checkpoint.batches.values():
        # Only a batch polled to the end on import/info counts; AC's fate for the others is unknown.
        code, reason = (int(Outcome.CONFIRMED), None) if record.reconciled else (int(Outcome.UNCONFIRMED), unconfirmed)
        for carried in record.carried:
            for row in carried:
                codes[row], reasons[row] = code, reason
        sent += len({r for carried in record.carried for r in carried})
        for row in record.failed:
            why = checkpoint.dropped.get(row) or drop_reason(record.failed_reasons.get(row))
            codes[row], reasons[row] = int(Outcome.REJECTED), why
        for row, reason in record.unconfirmed.items():
            codes[row], reasons[row] = int(Outcome.UNCONFIRMED), reason
        for row, reason in record.rejected.items():
            codes[row], reasons[row] = int(Outcome.REJECTED), reason
    for row, reason in checkpoint.local_rejects.items():
        codes[row], reasons[row] = int(Outcome.REJECTED), reason
    opted_out = LEAVER_OPTED_OUT_REASON if op is Op.UNSUBSCRIBE else OPTED_OUT_REASON
    for row in checkpoint.opted_out:
        codes[row], reasons[row] = int(Outcome.OPTED_OUT), opted_out
    if op is Op.RESUBSCRIBE:
        done = set(checkpoint.resubscribed)
        for row, code in enumerate(codes):
            if code == Outcome.CONFIRMED and row not in done:
                why = checkpoint.resubscribe_failed.get(row, stopped or "not re-subscribed")
                codes[row], reasons[row] = int(Outcome.REJECTED), f"could not re-subscribe: {why}"
    tally = {o: codes.count(int(o)) for o in Outcome}
    if op is Op.UNSUBSCRIBE:
        counts = ShardCounts(
            removed=tally[Outcome.CONFIRMED],
            removal_rejected=tally[Outcome.REJECTED],
            removal_not_sent=tally[Outcome.NOT_SENT] + tally[Outcome.UNCONFIRMED],
            removal_opted_out=tally[Outcome.OPTED_OUT],
        )
    else:
        counts = ShardCounts(
            sent=sent,
            confirmed=tally[Outcome.CONFIRMED],
            rejected=tally[Outcome.REJECTED],
            not_sent=tally[Outcome.NOT_SENT] + tally[Outcome.UNCONFIRMED],
            opted_out=tally[Outcome.OPTED_OUT],
        )
    return codes, reasons, counts


__all__ = ["LEAVER_OPTED_OUT_REASON", "OPTED_OUT_REASON", "shard_outcomes"]
