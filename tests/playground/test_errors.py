"""Every bad request is a 4xx with {"error": "..."} naming the problem — never a 500 or a hang."""

import json
import socket
import time

import pytest

from chainrule.playground.server import MAX_BODY


def _error(client, method, path, body=None, headers=None, status=None):
    code, got_headers, raw = client.raw(method, path, body, headers)
    assert 400 <= code < 500, (code, raw[:200])
    if status is not None:
        assert code == status, (code, raw[:200])
    assert got_headers["Content-Type"] == "application/json"
    payload = json.loads(raw)
    assert isinstance(payload["error"], str) and payload["error"]
    return payload["error"]


@pytest.fixture(scope="module")
def sid(client):
    return client.session(layers=[3])["id"]


CONFIGS = [
    ({"dataset": "moons"}, "dataset"),
    ({"layers": [4] * 17}, "layers"),
    ({"layers": [257]}, "layers"),
    ({"layers": [0]}, "layers"),
    ({"layers": "4,2"}, "layers"),
    ({"points": 10**7}, "points"),
    ({"lr": -1}, "lr"),
    ({"lr": "fast"}, "lr"),
    ({"noise": 2}, "noise"),
    ({"train_fraction": 1.0}, "train_fraction"),
    ({"features": ["x3"]}, "features"),
    ({"features": []}, "features"),
    ({"activation": "softmax"}, "activation"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"batch_size": 0}, "batch_size"),
    ({"seed": -1}, "seed"),
    ({"cost": "log-likelihood", "output": "sigmoid"}, "log-likelihood"),
    ({"dataset": "plane", "cost": "cross-entropy"}, "quadratic"),
    ({"dataset": "csv"}, "csv"),
    ({"dataset": "csv", "csv": "1,2\n"}, "csv"),
    ({"layers": [256] * 5}, "limit"),
    ({"learning_rate": 0.1}, "unknown key"),
]


@pytest.mark.parametrize(("config", "named"), CONFIGS)
def test_bad_configs(client, config, named):
    message = _error(client, "POST", "/api/sessions", json.dumps(config).encode(), status=400)
    assert named in message


@pytest.mark.parametrize(("body", "named"), [
    (b"{not json", "malformed JSON"),
    (b"[1, 2]", "JSON object"),
    (b"\xff\xfe", "malformed JSON"),
    (b"[" * 100_000, "malformed JSON"),
    (b'{"seed": ' + b"7" * 400 + b"}", "has 400 digits"),
    (b'{"lr": 1e999}', "out of range"),
    (b'{"lr": NaN}', "expected a finite number, got NaN"),
    (b'{"x": ' + b"[" * 200 + b"]" * 200 + b"}", "nested too deeply"),
])
def test_malformed_bodies(client, body, named):
    assert named in _error(client, "POST", "/api/sessions", body, status=400)


def _raw_answer(port, head):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(head)
        answer = raw.makefile("rb").read()     # the server answers and closes: no hang
    status, _, body = answer.partition(b"\r\n\r\n")
    return status.split(b" ")[1], json.loads(body)["error"]


def test_body_size_and_length(client):
    """Refused before the body is read: a client cannot make the server take 1 GB."""
    code, message = _raw_answer(client.port, b"POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1"
                                b"\r\nContent-Length: %d\r\n\r\n" % (1 << 30))
    assert code == b"413" and str(MAX_BODY) in message
    code, message = _raw_answer(client.port, b"POST /api/sessions HTTP/1.1\r\n"
                                b"Host: 127.0.0.1\r\n\r\n")
    assert code == b"411" and "Content-Length" in message
    code, message = _raw_answer(client.port, b"POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1"
                                b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert code == b"411" and "chunked" in message


@pytest.mark.parametrize(("path", "body", "status", "named"), [
    ("step", {"epochs": 0}, 400, "epochs"),
    ("step", {"epochs": 10**6}, 400, "epochs"),
    ("step", {"batches": -1}, 400, "batches"),
    ("step", {}, 400, "either"),
    ("step", {"epochs": 1, "speed": 2}, 400, "unknown key"),
    ("step", {"epochs": 1, "grid": 1000}, 400, "grid"),
    ("weights", {"layer": 5, "row": 0, "col": 0, "value": 1}, 400, "layer"),
    ("weights", {"layer": 0, "row": 9, "col": 0, "value": 1}, 400, "row"),
    ("weights", {"layer": 0, "row": 0, "col": 9, "value": 1}, 400, "col"),
    ("weights", {"layer": 0, "row": 0, "col": 0, "value": "big"}, 400, "value"),
    ("weights", {"layer": 0, "row": 0, "col": 0, "value": 1e300}, 400, "value"),
    ("weights", {"layer": 0, "row": 0}, 400, "value"),
])
def test_bad_posts(client, sid, path, body, status, named):
    before = client.call("GET", f"/api/sessions/{sid}")
    message = _error(client, "POST", f"/api/sessions/{sid}/{path}", json.dumps(body).encode(),
                     status=status)
    assert named in message
    after = client.call("GET", f"/api/sessions/{sid}")     # a refused request changes nothing
    assert (after["epoch"], after["batch"], after["params"]) == \
        (before["epoch"], before["batch"], before["params"])


@pytest.mark.parametrize(("query", "named"), [
    ("ledger", "index"), ("ledger?index=abc", "index"), ("ledger?index=100000", "index"),
    ("ledger?index=-1", "index"), ("nudges?layer=0", "row"), ("nudges?layer=7&row=0", "layer"),
    ("paths?layer=0&row=0&col=99", "col"), ("gradcheck?row=1", "layer"),
    ("heatmaps?grid=1", "grid"), ("heatmaps?grid=99999999999", "grid"),
    ("nudges?" + "&".join(f"a{i}=1" for i in range(50)), "query"),
])
def test_bad_queries(client, sid, query, named):
    assert named in _error(client, "GET", f"/api/sessions/{sid}/{query}", status=400)


def test_unknown_things(client, sid):
    assert "unknown session" in _error(client, "GET", "/api/sessions/0123456789abcdef/data",
                                       status=404)
    _error(client, "GET", "/api/sessions/not-an-id", status=404)
    _error(client, "GET", f"/api/sessions/{sid}/nothing", status=404)
    _error(client, "GET", "/static/../server.py", status=404)
    _error(client, "GET", "/etc/passwd", status=404)
    _error(client, "GET", "/api/sessions", status=405)
    _error(client, "PUT", f"/api/sessions/{sid}/step", b"{}", {"Content-Length": "2"}, 405)
    _error(client, "DELETE", "/", status=405)


def test_heatmaps_of_a_set_that_is_not_planar(client):
    sid = client.session(dataset="digits", layers=[4])["id"]
    assert "not 2-D" in _error(client, "GET", f"/api/sessions/{sid}/heatmaps", status=400)
    assert "not 2-D" in _error(client, "POST", f"/api/sessions/{sid}/step",
                               b'{"batches": 1, "grid": 50}', status=400)
    assert client.call("GET", f"/api/sessions/{sid}")["batch"] == 0     # nothing was trained


def test_foreign_host_and_origin_are_refused(client, sid):
    assert "Host" in _error(client, "GET", "/api/options", headers={"Host": "evil.example"},
                            status=403)
    _error(client, "POST", f"/api/sessions/{sid}/step", b'{"epochs": 1}',
           {"Origin": "http://evil.example", "Content-Type": "application/json"}, status=403)


def test_a_stalled_client_does_not_block_others(server, client):
    stalled = socket.create_connection(server.server_address, timeout=5)
    stalled.sendall(b"POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Length: 50\r\n\r\n{")
    started = time.monotonic()
    client.call("GET", "/api/options")
    assert time.monotonic() - started < 2
    stalled.close()


def test_a_diverging_run_is_a_409_and_keeps_its_last_good_weights(client):
    info = client.session(activation="relu", layers=[8, 8], lr=10, features=["x1_sq", "x2_sq"],
                          cost="quadratic", output="identity", dataset="plane")
    sid = info["id"]
    message = None
    for _ in range(20):
        code, _, raw = client.raw("POST", f"/api/sessions/{sid}/step", b'{"epochs": 5}',
                                  {"Content-Type": "application/json"})
        if code != 200:
            assert code == 409
            message = json.loads(raw)["error"]
            break
    assert message and "diverged" in message and "smaller learning rate" in message
    after = client.call("GET", f"/api/sessions/{sid}")
    assert after["diverged"] and all(isinstance(w, float) for W in after["params"][0::2]
                                     for row in W for w in row)
    assert "diverged" in _error(client, "POST", f"/api/sessions/{sid}/step",
                                b'{"batches": 1}', status=409)
    client.call("POST", f"/api/sessions/{sid}/reset")
    client.call("POST", f"/api/sessions/{sid}/step", {"batches": 1})



def test_numbers_json_cannot_hold_become_null():
    from chainrule.playground.server import _finite

    payload = {"a": [1.0, float("nan"), (float("inf"), 2)], "b": {"c": -float("inf")}, "d": "x"}
    assert json.loads(json.dumps(_finite(payload), allow_nan=False)) == \
        {"a": [1.0, None, [None, 2]], "b": {"c": None}, "d": "x"}
