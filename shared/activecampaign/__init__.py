"""The ActiveCampaign API v3 client (bulk import, lists, fields, contacts) and its error taxonomy."""

from shared.activecampaign.budget import AccountBudget, BudgetRegistry, RequestKind
from shared.activecampaign.bulk import ImportResult, Rejection, import_contacts
from shared.activecampaign.client import ActiveCampaignClient
from shared.activecampaign.delivery import Delivery, deliver, request_groups
from shared.activecampaign.errors import (
    AcAuthError,
    AcBatchInvalid,
    AcHostRefused,
    AcNotFound,
    AcRateLimited,
    AcRequestRejected,
    Action,
    AcTransientError,
    classify,
)
from shared.activecampaign.models import AcField, AcList, AcUser, ImportInfo, fields_named
from shared.activecampaign.payload import (
    ContactColumns,
    ContactFields,
    batch_ranges,
    bulk_body,
    contact_payload,
    contact_payloads,
)
from shared.activecampaign.stats import ClientStats

__all__ = [
    "AcAuthError",
    "AcBatchInvalid",
    "AcField",
    "AcHostRefused",
    "AcList",
    "AcNotFound",
    "AcRateLimited",
    "AcRequestRejected",
    "AcTransientError",
    "AcUser",
    "AccountBudget",
    "Action",
    "ActiveCampaignClient",
    "BudgetRegistry",
    "ClientStats",
    "ContactColumns",
    "ContactFields",
    "Delivery",
    "ImportInfo",
    "ImportResult",
    "Rejection",
    "RequestKind",
    "batch_ranges",
    "bulk_body",
    "classify",
    "contact_payload",
    "contact_payloads",
    "deliver",
    "fields_named",
    "import_contacts",
    "request_groups",
]
