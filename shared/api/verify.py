"""Checks a connection must pass before it is saved: a safe hostname, and a key ActiveCampaign accepts.

The key is verified with `GET /api/3/users/me` through the production client (the same
session and status table, as a guest of the account: shared/pipeline/lane.py), with few
attempts: a caller is waiting.  Every failure
names the field to fix and never carries the key.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from shared.activecampaign import AcAuthError, AcHostRefused, AcRequestRejected, AcUser
from shared.config import AcLimits, Secret
from shared.errors import InvalidInput
from shared.security import normalise_hostname
from shared.services import Services

VERIFY_ATTEMPTS: Final = 2
VERIFY_TIMEOUT_S: Final = 15.0
VERIFY_RATE_LIMIT_WAIT_S: Final = 20.0
AUTH_REASONS: Final = {
    401: "refused this API key (401)",
    402: "refused the request because of the account's payment status (402)",
    403: "refused this API key or its permissions (403)",
}


async def checked_hostname(services: Services, raw: str) -> str:
    """The normalised hostname, refused (400 naming `hostname`) when it could reach inside.

    An exact entry of AC_ALLOWED_LOCAL_HOSTS (the emulator's 127.0.0.1:<port>) passes as it is;
    every other name must also resolve to public addresses only.
    """
    settings = services.settings
    host = normalise_hostname(raw, allowed_local=settings.allowed_local_ac_hosts)
    if host in settings.allowed_local_ac_hosts:
        return host
    await services.resolve_host(host)
    return host


def verification_limits(services: Services) -> AcLimits:
    return dataclasses.replace(
        services.settings.ac,
        max_attempts=min(services.settings.ac.max_attempts, VERIFY_ATTEMPTS),
        timeout_s=min(services.settings.ac.timeout_s, VERIFY_TIMEOUT_S),
        poll_timeout_s=VERIFY_RATE_LIMIT_WAIT_S,
    )


async def verify_key(services: Services, hostname: str, api_key: Secret) -> AcUser:
    """GET /users/me with the key: the account user, or 400 naming `apiKey` if AC refuses it, `hostname` if it
    is not AC."""
    try:
        async with services.ac_guest(hostname, api_key, verification_limits(services)) as client:
            user = await client.verify_credentials()
    except AcAuthError as exc:
        reason = AUTH_REASONS.get(exc.ac_status, f"refused the request ({exc.ac_status})")
        raise InvalidInput.for_field(
            "apiKey",
            f"ActiveCampaign account {hostname} {reason}: copy the key from Settings > Developer in ActiveCampaign",
        ) from None
    except AcHostRefused:
        raise InvalidInput.for_field(
            "hostname", f"{hostname} resolves to a private or internal address: use the account's public API hostname"
        ) from None
    except AcRequestRejected:
        raise InvalidInput.for_field(
            "hostname", f"{hostname} did not answer like an ActiveCampaign API: check the REST endpoint hostname"
        ) from None
    if not user.id:
        raise InvalidInput.for_field(
            "hostname", f"{hostname} has no ActiveCampaign API (GET /api/3/users/me): check the REST endpoint hostname"
        )
    return user


__all__ = ["checked_hostname", "verification_limits", "verify_key"]
