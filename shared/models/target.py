"""Where an export's contacts go: the connection it used, the ActiveCampaign account and the list."""

from __future__ import annotations

from pydantic import BaseModel


class Target(BaseModel):
    """`account` is the account key (shared/activecampaign/account.py), not a raw hostname."""

    connection_id: str
    account: str
    list_id: int

    def same_place(self, other: Target) -> bool:
        """The same account and list (what the incremental state is keyed by); the connection may differ."""
        return (self.account, self.list_id) == (other.account, other.list_id)


__all__ = ["Target"]
