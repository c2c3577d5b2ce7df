"""The live stack (Azurite, the AC emulator, the stand-in host) from the end-to-end tests."""

from tests.e2e.conftest import stack, stack_options

__all__ = ["stack", "stack_options"]
