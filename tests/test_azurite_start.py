"""Azurite on ports picked free: another process may take one between the pick and Azurite's bind.  Whatever
answers there then, start() must hand back an Azurite that answers on every port it names, or fail."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from local.azurite import Azurite, azurite, free_ports, server_header


@pytest.fixture
def squatter() -> Iterator[int]:
    """A plain HTTP server on a free port (as if another test's server had been handed that port)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("service", ["blob", "queue", "table"])
def test_a_picked_port_taken_by_another_server_is_picked_again(squatter: int, service: str) -> None:
    blob, queue, table = free_ports(3)
    ports = {"blob": blob, "queue": queue, "table": table, service: squatter}
    storage = Azurite(
        blob_port=ports["blob"], queue_port=ports["queue"], table_port=ports["table"], pick_ports=True
    ).start()
    try:
        assert squatter not in (storage.blob_port, storage.queue_port, storage.table_port)
        assert server_header(storage.blob_port).startswith("Azurite-Blob")
        assert server_header(storage.queue_port).startswith("Azurite-Queue")
    finally:
        storage.stop()


def test_a_port_taken_by_another_azurite_is_picked_again() -> None:
    first = azurite().start()
    try:
        queue, table = free_ports(2)
        second = Azurite(blob_port=first.blob_port, queue_port=queue, table_port=table, pick_ports=True).start()
        try:
            assert second.blob_port != first.blob_port and second.process is not None
            assert second.process.poll() is None
        finally:
            second.stop()
    finally:
        first.stop()


def test_ports_given_by_the_caller_are_not_replaced(squatter: int) -> None:
    queue, table = free_ports(2)
    with pytest.raises(RuntimeError):
        Azurite(blob_port=squatter, queue_port=queue, table_port=table).start()
