"""AccountState: the one AC account behind every key (contacts, lists, fields, tags, batches, seeds).

Email identity is case-insensitive: `by_email` is a unique index on the lowercased address.  The stored
email's case follows `config.email_case`.  Every accepted write of a contact (bulk import, sync or create)
adds 1 to `Contact.writes`; emails that failed inside an accepted batch are counted in `failed_sends`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

from local.activecampaign_emulator.model import FIELD_TYPES, AcList, Contact, CustomField, Tag

if TYPE_CHECKING:
    from local.activecampaign_emulator.batches import Batch
    from local.activecampaign_emulator.config import EmulatorConfig


POOL_LIMIT: Final = 200_000


class AccountState:
    def __init__(self, config: EmulatorConfig, wall: Callable[[], float] = time.time) -> None:
        self._config = config
        self.wall = wall
        self.reset()

    def reset(self) -> None:
        """Forget everything, then recreate `config.default_lists` (ids 1..n)."""
        self.contacts: list[Contact | None] = [None]  # index = contact id
        self.by_email: dict[str, Contact] = {}
        self.lists: dict[int, AcList] = {}
        self.fields: dict[int, CustomField] = {}
        self.tags: dict[int, Tag] = {}
        self.tags_by_name: dict[str, Tag] = {}
        self._tag_sets: dict[tuple[str, ...], tuple[int, ...]] = {}
        self.exclusions: set[str] = set()
        self.bounced: set[str] = set()
        self.failed_sends: dict[str, int] = {}
        self.contact_list_writes: dict[int, int] = {}
        self.batches: dict[str, Batch] = {}
        self.pool: dict[str, str] = {}  # repeated names and field values share one string (bounded)
        self._next_list_id = 1
        self._next_field_id = 1
        for name in self._config.default_lists:
            self.add_list(name)

    # --- contacts ------------------------------------------------------------------------------
    @property
    def contact_count(self) -> int:
        return len(self.by_email)

    @property
    def next_contact_id(self) -> int:
        return len(self.contacts)

    def at_contact_limit(self) -> bool:
        limit = self._config.contact_limit
        return limit is not None and len(self.by_email) >= limit

    def contact(self, email: str) -> Contact | None:
        """The contact with this email (any case), or None."""
        return self.by_email.get(email.lower())

    def contact_by_id(self, contact_id: int) -> Contact | None:
        return self.contacts[contact_id] if 0 < contact_id < len(self.contacts) else None

    def pooled(self, value: object) -> str:
        """One shared string object per distinct short value, while the pool is small."""
        text = value if isinstance(value, str) else str(value)
        pool = self.pool
        shared = pool.get(text)
        if shared is not None:
            return shared
        if len(pool) < POOL_LIMIT and len(text) <= 64:
            pool[text] = text
        return text

    def new_contact(self, email: str, key: str, now: float) -> Contact:
        contact = Contact(len(self.contacts), key if self._config.email_case == "lower" else email, now)
        self.contacts.append(contact)
        self.by_email[key] = contact
        return contact

    def note_email(self, contact: Contact, email: str) -> None:
        """A write with `email` reached an existing contact: keep or update the stored case."""
        if self._config.email_case == "last":
            contact.email = email

    def write_count(self, email: str) -> int:
        contact = self.contact(email)
        return contact.writes if contact is not None else 0

    def write_counts(self, minimum: int = 1) -> dict[str, int]:
        """email (lowercased) -> accepted writes, for contacts written at least `minimum` times."""
        return {key: c.writes for key, c in self.by_email.items() if c.writes >= minimum}

    # --- lists ------------------------------------------------------------------------------------
    def add_list(self, name: str, stringid: str | None = None, list_id: int | None = None) -> AcList:
        if list_id is None:
            list_id = self._next_list_id
        if list_id in self.lists:
            raise ValueError(f"list {list_id} already exists")
        self._next_list_id = max(self._next_list_id, list_id + 1)
        slug = stringid or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or f"list-{list_id}"
        acl = AcList(list_id, name, slug, self.wall())
        self.lists[list_id] = acl
        return acl

    def delete_list(self, list_id: int) -> bool:
        return self.lists.pop(list_id, None) is not None

    def memberships(self, contact_id: int) -> list[tuple[AcList, int]]:
        return [(acl, st) for acl in self.lists.values() if (st := acl.status_of(contact_id)) is not None]

    def list_members(self, list_id: int) -> dict[str, int]:
        """email (as stored) -> status (1 subscribed, 2 unsubscribed) for every member of the list."""
        acl = self.lists[list_id]
        contacts = self.contacts
        return {contacts[cid].email: st for cid, st in acl.members()}  # type: ignore[union-attr]

    def member_status(self, list_id: int, email: str) -> int | None:
        contact = self.contact(email)
        acl = self.lists.get(list_id)
        return None if contact is None or acl is None else acl.status_of(contact.id)

    # --- fields and tags ----------------------------------------------------------------------------
    def add_field(self, title: str, field_type: str, perstag: str | None = None, **extra: object) -> CustomField:
        if field_type not in FIELD_TYPES:
            raise ValueError(f"field type must be one of {', '.join(sorted(FIELD_TYPES))}")
        field = CustomField(
            id=self._next_field_id,
            title=title,
            type=field_type,
            perstag=perstag or re.sub(r"[^A-Z0-9]+", "_", title.upper()).strip("_"),
            cdate=self.wall(),
            isrequired=bool(extra.get("isrequired", False)),
            defval=str(extra.get("defval") or ""),
            options=[str(o) for o in extra.get("options") or []],  # type: ignore[attr-defined]
        )
        self._next_field_id += 1
        self.fields[field.id] = field
        return field

    def tag_ids(self, names: tuple[str, ...]) -> tuple[int, ...]:
        """Ids of the tags with these names (case-insensitive), creating missing tags."""
        cached = self._tag_sets.get(names)
        if cached is not None:
            return cached
        ids: list[int] = []
        for name in names:
            tag = self.tags_by_name.get(name.lower())
            if tag is None:
                tag = Tag(len(self.tags) + 1, name)
                self.tags[tag.id] = tag
                self.tags_by_name[name.lower()] = tag
            if tag.id not in ids:
                ids.append(tag.id)
        result = tuple(ids)
        self._tag_sets[names] = result
        return result

    def tag_names(self, contact: Contact) -> list[str]:
        return [self.tags[t].name for t in contact.tags or ()]

    # --- seeds (not counted as writes) ---------------------------------------------------------------
    def seed_exclusions(self, emails: Iterable[str]) -> None:
        self.exclusions.update(e.lower() for e in emails)

    def seed_bounced(self, emails: Iterable[str]) -> None:
        self.bounced.update(e.lower() for e in emails)

    def seed_contact(
        self,
        email: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        phone: str | None = None,
        fields: dict[int, str] | None = None,
        tags: Iterable[str] = (),
        lists: dict[int, int] | None = None,
    ) -> Contact:
        """Create or update a contact as if it existed before; `lists` maps list id -> status (1 subscribed,
        2 unsubscribed, 3 bounced: AC's numbering as SDKs have it, UNCONFIRMED)."""
        key = email.lower()
        contact = self.by_email.get(key) or self.new_contact(email, key, self.wall())
        for attr, value in (("first_name", first_name), ("last_name", last_name), ("phone", phone)):
            if value is not None:
                setattr(contact, attr, value)
        for field_id, value in (fields or {}).items():
            contact.set_field(int(field_id), str(value))
        if tags:
            contact.add_tags(self.tag_ids(tuple(tags)))
        for list_id, status in (lists or {}).items():
            if status not in (1, 2, 3):
                raise ValueError("a list status must be 1 (subscribed), 2 (unsubscribed) or 3 (bounced)")
            self.lists[int(list_id)].set_status(contact.id, status)
        return contact
