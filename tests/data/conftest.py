"""Shared fixtures for the data tests: the real MNIST test files and a loopback HTTP server."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

SHARED_MNIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"


@pytest.fixture
def shared_mnist() -> Path:
    """The directory with the real MNIST test set, or a clean skip where it is absent."""
    names = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    if not all((SHARED_MNIST / n).is_file() for n in names):
        pytest.skip("the real MNIST files (../shared/data/mnist) are not on this machine")
    return SHARED_MNIST


class LoopbackServer:
    """A tiny HTTP server on 127.0.0.1: ``routes[path] = (status, body, behaviour)``.

    behaviour "ok" sends the body; "cut" announces the full length, sends half and closes;
    "stall" sends half and then waits (at most 5 s, released when the server stops);
    "trickle" sends one byte every 50 ms (until the body ends or the server stops);
    "trickle-headers" sends its status line and headers that way.
    Every request path is appended to ``requests``.
    """

    def __init__(self):
        self.routes: dict[str, tuple[int, bytes, str]] = {}
        self.requests: list[str] = []
        self.release = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = 5

            def do_GET(self):  # the name http.server dispatches to
                server.requests.append(self.path)
                status, body, behaviour = server.routes.get(self.path, (404, b"not found", "ok"))
                if behaviour == "trickle-headers":
                    head = f"HTTP/1.0 {status} OK\r\nContent-Length: {len(body)}\r\n\r\n"
                    self.trickle(head.encode() + body)
                    return
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if behaviour == "trickle":
                    self.trickle(body)
                    return
                if behaviour in ("cut", "stall"):
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    if behaviour == "stall":
                        server.release.wait(5)
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def trickle(self, data):
                for i in range(len(data)):
                    if server.release.wait(0.05):
                        break
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server(monkeypatch):
    """A running loopback server; proxies are switched off so nothing leaves this machine."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    with LoopbackServer() as s:
        yield s
