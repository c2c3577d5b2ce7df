"""A loopback TCP front for one port of a server: what clients see of it while a test stops and kills it.

- `hold()`: nothing more that clients send is passed on (requests hang, as with a server that stopped
  answering); answers already on their way still arrive.
- `cut()`: every connection is aborted and the port closes (new connections are refused), as when the
  server's process dies.
- `open()`: listens again on the same port and passes everything on.
"""

from __future__ import annotations

import asyncio
import contextlib

from local.azurite import free_port


class TcpFront:
    def __init__(self, target_port: int, port: int = 0) -> None:
        self.target_port = target_port
        self.port = port or free_port()
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()
        self._transports: set[asyncio.BaseTransport] = set()

    async def open(self) -> TcpFront:
        self._flowing.set()
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        return self

    def hold(self) -> None:
        self._flowing.clear()

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()

    async def close(self) -> None:
        await self.cut()
        self._flowing.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._transports.add(writer.transport)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._transports.add(up_writer.transport)
        await asyncio.gather(self._pipe(reader, up_writer, gated=True), self._pipe(up_reader, writer, gated=False))

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, gated: bool) -> None:
        try:
            while data := await source.read(65536):
                if gated:
                    await self._flowing.wait()
                if sink.transport.is_closing():
                    return
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._transports.discard(sink.transport)
            with contextlib.suppress(Exception):
                sink.transport.abort()


__all__ = ["TcpFront"]
