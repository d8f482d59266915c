import http.client
import json
import threading

import pytest

from chainrule.playground.server import Sessions, make_server


class Client:
    """JSON requests to a playground server with http.client, one connection each."""

    def __init__(self, port):
        self.port = port

    def raw(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def call(self, method, path, body=None, expect=200):
        data = None if body is None else json.dumps(body).encode()
        headers = {} if data is None else {"Content-Type": "application/json"}
        status, _, raw = self.raw(method, path, data, headers)
        payload = json.loads(raw)
        assert status == expect, (status, payload)
        return payload

    def session(self, **config):
        return self.call("POST", "/api/sessions", config, expect=201)


@pytest.fixture(scope="module")
def server():
    srv = make_server("127.0.0.1", 0)
    srv.sessions = Sessions(limit=8)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def client(server):
    return Client(server.server_address[1])
