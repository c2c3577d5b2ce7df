"""Partition locations (shared/snapshot/locations.py): each accepted form, and each refusal with its message.

tests/snapshot/test_parts.py maps the common forms; these pin the edges: relative paths and the root, dot
segments, too-short paths, folders, the account check, blob snapshot times, and how a location is shown.
"""

from __future__ import annotations

import dataclasses

import pytest

from shared.errors import SnapshotError
from shared.snapshot.locations import BlobLocation, blob_location

SNAP = "2026-03-01T09:30:00.1234567Z"


def locate(location: str, *, account: str | None = "acct", container: str = "cont", root: str = "r") -> BlobLocation:
    return blob_location(location, account=account, container=container, root=root, where="P")


def refusal(location: str, **kwargs: str | None) -> str:
    with pytest.raises(SnapshotError) as caught:
        locate(location, **kwargs)  # type: ignore[arg-type]
    return caught.value.message


@pytest.mark.parametrize(
    ("location", "root", "blob"),
    [
        ("Seg/a.csv", "r", "r/Seg/a.csv"),
        ("/Seg/a.csv", "r", "r/Seg/a.csv"),  # a leading slash is still relative to the root
        ("r/Seg/a.csv", "r", "r/Seg/a.csv"),  # already under the root
        ("rx/Seg/a.csv", "r", "r/rx/Seg/a.csv"),  # only a whole folder name counts as the root
        ("Seg/a%20b.csv", "", "Seg/a b.csv"),
        ("Seg/a.csv", "", "Seg/a.csv"),
        ("HTTPS://ACCT.BLOB.core.windows.net/cont/Seg/A.csv", "r", "Seg/A.csv"),
        ("https://acct.blob.core.windows.net/cont/a.csv", "r", "a.csv"),
        ("https://acct.dfs.core.usgovcloudapi.net/cont/a/b.csv", "r", "a/b.csv"),
        ("abfs://cont@acct.dfs.core.windows.net/a/b.csv", "r", "a/b.csv"),
        ("abfss://cont@ACCT.dfs.core.windows.net/b.csv", "r", "b.csv"),
        ("http://localhost:10000/acct/cont/a/b.csv", "r", "a/b.csv"),
        ("http://azurite.localhost:10000/acct/cont/b.csv", "r", "b.csv"),
        ("http://[::1]:10000/ACCT/cont/b.csv", "r", "b.csv"),
        ("https://10.0.0.4/acct/cont/x/y/z.csv", "r", "x/y/z.csv"),
    ],
)
def test_each_form_maps_to_its_blob(location: str, root: str, blob: str) -> None:
    assert locate(location, root=root) == BlobLocation(blob)


def test_without_a_configured_account_any_account_is_read() -> None:
    assert locate("https://other.blob.core.windows.net/cont/a.csv", account=None) == BlobLocation("a.csv")
    assert locate("https://acct.blob.core.windows.net/cont/a.csv", account="ACCT") == BlobLocation("a.csv")


@pytest.mark.parametrize("snapshot", ["2026-03-01T09:30:00Z", "2026-03-01T09:30:00.1Z", "2026-03-01T09:30:00.1234567Z"])
def test_a_snapshot_time_with_up_to_seven_fraction_digits_is_read(snapshot: str) -> None:
    assert locate(f"Seg/a.csv?snapshot={snapshot}") == BlobLocation("r/Seg/a.csv", snapshot)
    assert locate(f"Seg/a.csv?other=1&snapshot={snapshot}") == BlobLocation("r/Seg/a.csv", snapshot)


@pytest.mark.parametrize(
    "snapshot",
    ["2026-03-01T09:30:00.12345678Z", "2026-03-01T09:30:00", "x2026-03-01T09:30:00Z", "2026-03-01T09:30:00Zx", ""],
)
def test_anything_else_as_a_snapshot_time_is_refused(snapshot: str) -> None:
    assert refusal(f"Seg/a.csv?snapshot={snapshot}") == (
        "P: the location's snapshot= parameter is not one blob snapshot time "
        "(like 2026-03-01T09:30:00.1234567Z): fix the partition's location in model.json"
    )


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("", "P: the location is empty"),
        ("/", "P: the location is empty"),
        ("?snapshot=" + SNAP, "P: the location is empty"),
        ("Seg/../a.csv", "P: a partition location must not contain '.' or '..' path segments"),
        ("./a.csv", "P: a partition location must not contain '.' or '..' path segments"),
        ("Seg/%2E%2E/a.csv", "P: a partition location must not contain '.' or '..' path segments"),
        (
            "https://acct.blob.core.windows.net/cont/../other/a.csv",
            "P: a partition location must not contain '.' or '..' path segments",
        ),
        (
            "http://127.0.0.1:10000/acct/a.csv",
            "P: location 'http://127.0.0.1:10000/acct/a.csv' has no account/container/blob path",
        ),
        (
            "https://acct.blob.core.windows.net/a.csv",
            "P: location 'https://acct.blob.core.windows.net/a.csv' has no container/blob path",
        ),
        (
            "https://acct.blob.core.windows.net/cont/Seg/",
            "P: location 'https://acct.blob.core.windows.net/cont/Seg/' names a folder, not a file",
        ),
        (
            "abfss://cont@acct.dfs.core.windows.net/",
            "P: location 'abfss://cont@acct.dfs.core.windows.net/' names a folder, not a file",
        ),
        (
            "https://acct.file.core.windows.net/cont/a.csv",
            "P: location 'https://acct.file.core.windows.net/cont/a.csv' is not a Blob Storage or Data Lake URL",
        ),
        (
            "https://windows.net/cont/a.csv",
            "P: location 'https://windows.net/cont/a.csv' is not a Blob Storage or Data Lake URL",
        ),
        (
            "ftp://acct.blob.core.windows.net/cont/a.csv",
            "P: location 'ftp://acct.blob.core.windows.net/cont/a.csv' is not a Blob Storage or Data Lake URL",
        ),
        ("https://[::1/cont/a.csv", "P: location 'https://[::1/cont/a.csv' is not a Blob Storage or Data Lake URL"),
    ],
)
def test_each_refusal_says_why(location: str, message: str) -> None:
    assert refusal(location) == message


def test_a_location_elsewhere_names_both_places_and_the_fix() -> None:
    assert refusal("https://other.blob.core.windows.net/cont/a.csv?sig=SECRET") == (
        "P: location is in account 'other' container 'cont', but the snapshot storage is account 'acct' "
        "container 'cont': point SNAPSHOT_STORAGE and SNAPSHOT_CONTAINER at the storage Customer Insights exports to"
    )
    assert "container 'Cont'" in refusal("https://acct.blob.core.windows.net/Cont/a.csv")  # containers are exact
    assert "account 'x' container 'other', but the snapshot storage is account '?'" in refusal(
        "abfss://other@x.dfs.core.windows.net/a.csv", account=None
    )


def test_a_refused_location_is_shown_without_its_query_and_at_most_200_characters() -> None:
    long = "https://example.com/" + "x" * 300 + "?sig=SECRET"

    message = refusal(long)

    assert f"'{long[:200]}'" in message
    assert "SECRET" not in message and "x" * 181 not in message


def test_only_slashes_are_stripped_from_the_front_of_a_path() -> None:
    assert locate("Xseg/a.csv") == BlobLocation("r/Xseg/a.csv")
    assert locate("https://acct.blob.core.windows.net/Xc/a.csv", container="Xc") == BlobLocation("a.csv")


def test_a_location_is_an_immutable_value() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        locate("a.csv").name = "b.csv"  # type: ignore[misc]


def test_plain_http_and_short_service_hosts_are_read() -> None:
    assert locate("http://acct.blob.core.windows.net/cont/a.csv") == BlobLocation("a.csv")
    assert locate("https://acct.blob.net/cont/a.csv") == BlobLocation("a.csv")  # <account>.blob.<suffix>


def test_an_abfs_location_without_a_container_names_none() -> None:
    assert "account 'acct' container ''," in refusal("abfss://acct.dfs.core.windows.net/a.csv")
