"""Which ActiveCampaign custom field a mapping names: saving an export and planning a run agree."""

from __future__ import annotations

from shared.activecampaign import AcField, fields_named
from shared.api.export_checks import check_custom_fields
from shared.models.export import AttributeMapping, CustomFieldMapping

FIELDS = [
    AcField(id="7", title=" Plan Tier ", type="text"),  # AC keeps titles as typed, spaces included
    AcField(id="8", title="Region", type="text"),
    AcField(id="9", title="region", type="dropdown"),
    AcField(id="10", title="7", type="text"),
]


def mapping(*fields: str) -> AttributeMapping:
    return AttributeMapping(
        email="Email", custom_fields=[CustomFieldMapping(attribute=f"A{i}", field=f) for i, f in enumerate(fields)]
    )


def test_an_id_wins_over_a_title_that_looks_like_it() -> None:
    assert [f.id for f in fields_named(FIELDS, " 7 ")] == ["7"]


def test_titles_match_trimmed_and_case_insensitively_on_both_sides() -> None:
    assert [f.id for f in fields_named(FIELDS, "plan tier")] == ["7"]
    assert check_custom_fields(FIELDS, mapping("PLAN TIER")) == []  # what the planner will find, saving accepts


def test_an_ambiguous_or_unknown_title_is_named_with_what_to_do() -> None:
    assert [f.id for f in fields_named(FIELDS, "REGION")] == ["8", "9"]
    details = check_custom_fields(FIELDS, mapping("Region", "Nope"))
    assert [(d.field, d.message) for d in details] == [
        ("mapping.customFields.0.field", "2 ActiveCampaign fields are titled 'Region': use an id (8, 9)"),
        ("mapping.customFields.1.field", "no ActiveCampaign custom field has the id or title 'Nope'"),
    ]
