"""LocalSecretProvider: seeded from ACSECRET__ settings, persisted in a 0600 JSON file shared by processes."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
import sys
import textwrap
from pathlib import Path

import pytest

from shared.config import Secret
from shared.errors import ConfigurationError, FatalError, SecretNotFound
from shared.secrets import LocalSecretProvider, SecretProvider, seed_from_settings

NAME = "ac-key-demo"
VALUE = "ac-local-1234567890-topsecret"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def secrets_file(tmp_path: Path) -> Path:
    return tmp_path / "nested" / ".local" / "secrets.json"


async def test_seeded_values_come_from_acsecret_settings() -> None:
    seed = seed_from_settings({"ACSECRET__ac-key-demo": VALUE, "ACSECRET__": "ignored", "OTHER": "x"})
    provider = LocalSecretProvider(seed)

    assert seed == {NAME: VALUE}
    assert isinstance(provider, SecretProvider)
    assert (await provider.get(NAME)).reveal() == VALUE


async def test_a_key_set_by_one_process_is_seen_by_another(secrets_file: Path) -> None:
    http_process, worker = LocalSecretProvider(path=secrets_file), LocalSecretProvider(path=secrets_file)
    with pytest.raises(SecretNotFound):
        await worker.get(NAME)

    await http_process.set(NAME, Secret(VALUE))
    assert (await worker.get(NAME)).reveal() == VALUE

    await worker.delete(NAME)
    with pytest.raises(SecretNotFound):
        await http_process.get(NAME)


async def test_file_is_private_and_its_folders_are_created(secrets_file: Path) -> None:
    await LocalSecretProvider(path=secrets_file).set(NAME, Secret(VALUE))

    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets_file.parent.stat().st_mode) == 0o700
    assert json.loads(secrets_file.read_text()) == {NAME: VALUE}
    assert [p.name for p in secrets_file.parent.iterdir() if p.suffix == ".tmp"] == []  # no temp files left


async def test_an_existing_world_readable_file_becomes_private_on_write(secrets_file: Path) -> None:
    secrets_file.parent.mkdir(parents=True)
    secrets_file.write_text("{}")
    secrets_file.chmod(0o644)

    await LocalSecretProvider(path=secrets_file).set(NAME, Secret(VALUE))

    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600


async def test_without_a_file_values_live_in_this_provider_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    provider = LocalSecretProvider()

    await provider.set(NAME, Secret(VALUE))

    assert (await provider.get(NAME)).reveal() == VALUE
    with pytest.raises(SecretNotFound):
        await LocalSecretProvider().get(NAME)
    assert list(tmp_path.iterdir()) == []
    await provider.delete(NAME)
    with pytest.raises(SecretNotFound):
        await provider.get(NAME)


async def test_missing_secret_names_it_and_says_how_to_provide_it(secrets_file: Path) -> None:
    with pytest.raises(SecretNotFound) as info:
        await LocalSecretProvider(path=secrets_file).get(NAME)

    assert isinstance(info.value, FatalError)
    message = info.value.message
    assert "'ac-key-demo'" in message
    assert "PUT /api/connections/demo" in message
    assert "ACSECRET__ac-key-demo" in message
    assert str(secrets_file) in message


async def test_a_stored_value_wins_over_the_seed_and_delete_hides_the_seed(secrets_file: Path) -> None:
    seed = {NAME: "from-settings"}
    first = LocalSecretProvider(seed, path=secrets_file)
    await first.set(NAME, Secret("from-api"))
    assert (await LocalSecretProvider(seed, path=secrets_file).get(NAME)).reveal() == "from-api"

    await first.delete(NAME)

    with pytest.raises(SecretNotFound):
        await LocalSecretProvider(seed, path=secrets_file).get(NAME)
    await first.set(NAME, Secret("again"))
    assert (await LocalSecretProvider(seed, path=secrets_file).get(NAME)).reveal() == "again"


async def test_delete_of_an_unseeded_secret_leaves_no_trace_and_missing_is_fine(secrets_file: Path) -> None:
    provider = LocalSecretProvider(path=secrets_file)
    await provider.delete("ac-key-never-set")
    await provider.set(NAME, Secret(VALUE))
    await provider.delete(NAME)
    assert json.loads(secrets_file.read_text()) == {}


async def test_corrupt_file_names_the_file_but_not_its_content(secrets_file: Path) -> None:
    secrets_file.parent.mkdir(parents=True)
    secrets_file.write_text('{"ac-key-demo": "' + VALUE + '", ')

    with pytest.raises(ConfigurationError) as info:
        await LocalSecretProvider(path=secrets_file).get(NAME)

    assert str(secrets_file) in info.value.message
    assert VALUE not in info.value.message


async def test_values_never_reach_logs(secrets_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    provider = LocalSecretProvider(path=secrets_file)
    await provider.set(NAME, Secret(VALUE))
    await provider.get(NAME)
    await provider.delete(NAME)
    assert VALUE not in caplog.text
    assert NAME in caplog.text


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from shared.config import Secret
    from shared.secrets import LocalSecretProvider

    async def main(path, worker, count):
        provider = LocalSecretProvider(path=path)
        for i in range(count):
            await provider.set(f"ac-key-w{worker}-{i}", Secret(f"value-{worker}-{i}"))

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="the cross-process lock is POSIX-only")
async def test_concurrent_writers_in_several_processes_lose_no_update(secrets_file: Path) -> None:
    workers, count = 4, 40
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WRITER, str(secrets_file), str(w), str(count), cwd=REPO
        )
        for w in range(workers)
    ]
    codes = await asyncio.gather(*(p.wait() for p in procs))

    assert codes == [0] * workers
    stored = json.loads(secrets_file.read_text())
    assert len(stored) == workers * count
    assert stored["ac-key-w3-39"] == "value-3-39"
