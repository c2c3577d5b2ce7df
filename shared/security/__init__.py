"""Who may do what, and where requests may go: the principal, roles, and SSRF rules for hostnames."""

from shared.security.hostname import (
    address_refusal,
    check_resolves_publicly,
    is_public_address,
    normalise_hostname,
)
from shared.security.principal import PRINCIPAL_HEADER, Principal, Role, encode_principal, principal_from_headers

__all__ = [
    "PRINCIPAL_HEADER",
    "Principal",
    "Role",
    "address_refusal",
    "check_resolves_publicly",
    "encode_principal",
    "is_public_address",
    "normalise_hostname",
    "principal_from_headers",
]
