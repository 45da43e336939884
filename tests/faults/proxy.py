"""A TCP proxy on a free loopback port in front of a real server (PostgreSQL, RabbitMQ)
that a fault test can cut, slow down or reset, which is what an outage, a congested link
or a crashed peer look like to the client libraries."""
from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time


class FaultProxy:
    """Forwards 127.0.0.1:<port> to `target_port`.

    `cut()` closes every link and refuses new connections until `restore()`;
    `reset()` aborts every link with a TCP RST (the peer sees "connection reset") but keeps
    accepting; `delay(seconds)` holds every chunk that long before forwarding it.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.latency = 0.0
        self._open = True
        self._links: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name=f"fault-proxy-{self.port}",
                         daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # the listener was closed
            if not self._open:
                self._abort(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                self._abort(client)  # the server itself is down: refuse like it would
                continue
            upstream.settimeout(None)
            with self._lock:
                self._links += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        # A link cut by the test or closed by either end ends the copy.
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if self.latency:
                    time.sleep(self.latency)
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _abort(sock: socket.socket) -> None:
        """Close with RST instead of FIN (SO_LINGER with a zero timeout)."""
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def _drop_links(self, abort: bool) -> None:
        with self._lock:
            links, self._links = self._links, []
        for s in links:
            if abort:
                self._abort(s)
                continue
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def cut(self) -> None:
        """Drop every link and refuse new connections until `restore()`."""
        self._open = False
        self._drop_links(abort=False)

    def reset(self) -> None:
        """Abort every open link with a RST; new connections are still forwarded."""
        self._drop_links(abort=True)

    def delay(self, seconds: float) -> None:
        """Hold every forwarded chunk `seconds` (0 to stop)."""
        self.latency = seconds

    def restore(self) -> None:
        """Accept and forward again, without added latency."""
        self.latency = 0.0
        self._open = True

    def close(self) -> None:
        """Stop for good."""
        self.cut()
        self.listener.close()

    def amqp_url(self) -> str:
        """The RabbitMQ URL through this proxy (guest account, default vhost)."""
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"
