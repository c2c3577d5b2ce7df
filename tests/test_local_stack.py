"""`make up` keeps the AC hosts the developer allowed and adds its own emulator's (more emulated accounts)."""

from __future__ import annotations

from local.stack import LocalStack, StackOptions, allowed_hosts


class _Started(LocalStack):
    """A LocalStack whose Azurite and emulator are stand-ins (only the settings are under test)."""

    def __init__(self, options: StackOptions) -> None:
        super().__init__(options)

        class _Azurite:
            connection_string = "UseDevelopmentStorage=true"

        class _Emulator:
            url = "http://127.0.0.1:8085"

        self.azurite = _Azurite()  # type: ignore[assignment]
        self.emulator = _Emulator()  # type: ignore[assignment]


def test_the_stacks_emulator_is_added_to_the_hosts_the_developer_allowed() -> None:
    stack = _Started(StackOptions(settings={"AC_ALLOWED_LOCAL_HOSTS": "127.0.0.1:8086, 127.0.0.1:8087"}))
    assert stack.app_settings()["AC_ALLOWED_LOCAL_HOSTS"] == "127.0.0.1:8086,127.0.0.1:8087,127.0.0.1:8085"


def test_without_extra_hosts_only_the_stacks_emulator_is_allowed() -> None:
    assert _Started(StackOptions()).app_settings()["AC_ALLOWED_LOCAL_HOSTS"] == "127.0.0.1:8085"


def test_allowed_hosts_keeps_each_entry_once() -> None:
    assert allowed_hosts("a:1,b:2", "a:1", "c:3") == "a:1,b:2,c:3"
