"""The JSON API through http.client, as the page and scripts use it."""

import base64
import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.playground.datasets import features

from .test_cli import run_cli


def test_create_fills_in_the_defaults(client):
    info = client.session()
    assert info["sizes"] == [2, 4, 2, 1] and info["epoch"] == 0
    c = info["config"]
    assert (c["dataset"], c["activation"], c["lr"], c["batch_size"], c["features"]) == \
        ("circle", "tanh", 0.1, 10, ["x1", "x2"])
    assert (info["output"], info["cost"]) == ("sigmoid", "cross-entropy")
    assert info["n_train"] == 250 and info["planar"] and info["domain"] == [[-6, 6], [-6, 6]]
    assert client.call("GET", f"/api/sessions/{info['id']}")["id"] == info["id"]


def test_stepped_params_are_cr_train_bit_for_bit(client):
    """Over HTTP: the params of the step answer equal cr.train on the /data rows."""
    config = {"dataset": "spiral", "layers": [5, 4], "optimizer": "adam", "lr": 0.02,
              "l2": 0.1, "batch_size": 8, "seed": 9, "features": ["x1", "x2", "sin_x1"]}
    info = client.session(**config)
    sid = info["id"]
    client.call("POST", f"/api/sessions/{sid}/step", {"batches": 5})
    result = client.call("POST", f"/api/sessions/{sid}/step", {"epochs": 3})
    assert (result["epoch"], result["batch"]) == (3, 0)
    data = client.call("GET", f"/api/sessions/{sid}/data")
    net = cr.nn.Network(info["sizes"], activation="tanh", output="sigmoid",
                        cost="cross-entropy", seed=9, dtype="float64")
    start = [np.array(p) for p in info["params"]]
    assert all(np.array_equal(a, b) for a, b in zip(start, net.params))
    cr.train(net, np.array(data["train"]["X"]), np.array(data["train"]["y"]), epochs=3,
             batch_size=8, optimizer=cr.optim.Adam(lr=0.02), l2=0.1, seed=9, progress=False)
    for got, expected in zip(result["params"], net.params):
        np.testing.assert_array_equal(np.array(got), expected)   # JSON floats round-trip exactly
    assert result["train_loss"] == pytest.approx(
        net.cost(np.array(data["train"]["X"]), np.array(data["train"]["y"]), l2=0.1))


def test_data_is_the_features_of_the_points(client):
    sid = client.session(dataset="xor", features=["x1", "x2_sq", "x1_x2"], seed=3)["id"]
    data = client.call("GET", f"/api/sessions/{sid}/data")
    for split in ("train", "test"):
        P, X = np.array(data[split]["points"]), np.array(data[split]["X"])
        expected = np.column_stack([P[:, 0], P[:, 1] ** 2, P[:, 0] * P[:, 1]])
        np.testing.assert_array_equal(X, expected)
        np.testing.assert_array_equal(data[split]["y"], (P[:, 0] * P[:, 1] >= 0).astype(int))


def _unpack(packed, grid):
    q = np.frombuffer(base64.b64decode(packed["b64"]), np.uint8).astype(float)
    assert q.size == grid * grid
    return packed["lo"] + q / 255 * (packed["hi"] - packed["lo"])


def test_heatmaps_are_the_networks_activations_on_the_grid(client):
    info = client.session(layers=[3, 2], features=["x1", "x2", "x1_sq"])
    sid = info["id"]
    maps = client.call("POST", f"/api/sessions/{sid}/step", {"epochs": 2, "grid": 20})["heatmaps"]
    params = client.call("GET", f"/api/sessions/{sid}")["params"]
    net = cr.nn.Network(info["sizes"], activation="tanh", cost="cross-entropy", seed=0,
                        dtype="float64", weights=params[0::2], biases=params[1::2])
    xs, ys = np.linspace(-6, 6, 20), np.linspace(6, -6, 20)     # row 0 is the top (x2 = 6)
    P = np.column_stack([np.tile(xs, 20), np.repeat(ys, 20)])
    X = features(P, ["x1", "x2", "x1_sq"])
    out = _unpack(maps["output"][0], 20)
    tolerance = (maps["output"][0]["hi"] - maps["output"][0]["lo"]) / 255 / 2 + 1e-12
    np.testing.assert_allclose(out, net.forward(X)[:, 0], atol=tolerance)
    hidden = np.tanh(X @ net.weights[0].T + net.biases[0])
    for j in range(3):
        np.testing.assert_allclose(_unpack(maps["layers"][0][j], 20), hidden[:, j],
                                   atol=(maps["layers"][0][j]["hi"] -
                                         maps["layers"][0][j]["lo"]) / 510 + 1e-12)
    np.testing.assert_allclose(_unpack(maps["features"][2], 20), X[:, 2], atol=36 / 510)
    grid50 = client.call("GET", f"/api/sessions/{sid}/heatmaps")
    assert grid50["grid"] == 50 and len(grid50["layers"]) == 2


def test_ledger_nudges_paths_gradcheck_through_http(client):
    sid = client.session(layers=[3], l2=0.5)["id"]
    client.call("POST", f"/api/sessions/{sid}/step", {"batches": 3})
    ledger = client.call("GET", f"/api/sessions/{sid}/ledger?index=4")
    assert ledger["index"] == 4 and [layer["delta_rule"] for layer in ledger["layers"]] == \
        ["BP2", "BP1"]
    out = ledger["layers"][1]                              # BP4 by hand: ∂C/∂w_jk = a_k δ_j
    a_hidden = ledger["layers"][0]["a"]
    assert out["grad_weights"][0][2] == pytest.approx(a_hidden[2] * out["delta"][0], rel=1e-12)
    nudges = client.call("GET", f"/api/sessions/{sid}/nudges?layer=1&row=0&col=2")
    before = client.call("GET", f"/api/sessions/{sid}")["params"][2][0][2]
    after = client.call("POST", f"/api/sessions/{sid}/step", {"batches": 1})["params"][2][0][2]
    assert after - before == nudges["step"] and nudges["mean"] == pytest.approx(nudges["step"])
    paths = client.call("GET", f"/api/sessions/{sid}/paths?layer=0&row=1&col=0&index=2")
    assert paths["count"] == 1 and paths["sum"] == pytest.approx(paths["backprop"], rel=1e-12)
    check = client.call("GET", f"/api/sessions/{sid}/gradcheck?layer=0&row=1")
    assert check["ok"] and check["param"] == "b^1[1]"
    assert "hint" in client.call("GET", f"/api/sessions/{sid}/stuck")


def test_weight_edit_changes_the_network(client):
    sid = client.session(layers=[2])["id"]
    result = client.call("POST", f"/api/sessions/{sid}/weights",
                         {"layer": 0, "row": 1, "col": 0, "value": -2.5})
    assert result["value"] == -2.5 and result["params"][0][1][0] == -2.5
    result = client.call("POST", f"/api/sessions/{sid}/weights",
                         {"layer": 1, "row": 0, "value": 0.25})        # a bias
    assert result["params"][3] == [0.25]
    assert client.call("GET", f"/api/sessions/{sid}")["params"][0][1][0] == -2.5


def test_reset_and_delete(client):
    info = client.session(seed=3)
    sid = info["id"]
    client.call("POST", f"/api/sessions/{sid}/step", {"epochs": 2})
    fresh = client.call("POST", f"/api/sessions/{sid}/reset")
    assert fresh["id"] == sid and fresh["epoch"] == 0 and fresh["params"] == info["params"]
    client.call("DELETE", f"/api/sessions/{sid}")
    assert "unknown session" in client.call("GET", f"/api/sessions/{sid}", expect=404)["error"]


def test_sessions_are_bounded_oldest_first(server, client):
    ids = [client.session(layers=[1])["id"] for _ in range(server.sessions.limit + 1)]
    client.call("GET", f"/api/sessions/{ids[0]}", expect=404)
    client.call("GET", f"/api/sessions/{ids[-1]}")


def test_exported_model_loads_in_chainrule_evaluate(client, tmp_path):
    sid = client.session(dataset="gauss", layers=[3], seed=1)["id"]
    status = client.call("POST", f"/api/sessions/{sid}/step", {"epochs": 5})
    code, headers, model = client.raw("GET", f"/api/sessions/{sid}/model.npz")
    assert code == 200 and "attachment" in headers["Content-Disposition"]
    code, _, test_csv = client.raw("GET", f"/api/sessions/{sid}/test.csv")
    (tmp_path / "m.npz").write_bytes(model)
    (tmp_path / "test.csv").write_bytes(test_csv)
    done = run_cli("evaluate", tmp_path / "m.npz", "--data", tmp_path / "test.csv",
                   "--split", "all", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["accuracy"] == status["test_accuracy"]
    assert report["cost"] == pytest.approx(status["test_loss"], rel=1e-9)


def test_regression_rows_export_their_targets(client):
    sid = client.session(dataset="plane", layers=[2])["id"]
    code, _, text = client.raw("GET", f"/api/sessions/{sid}/train.csv")
    lines = text.decode().splitlines()
    assert code == 200 and lines[0] == "f1,f2,target" and len(lines) == 601
    x1, x2, target = map(float, lines[1].split(","))
    assert target == (x1 + x2) / 10


def test_csv_upload_with_three_classes_uses_softmax(client):
    rng = np.random.default_rng(0)
    P = rng.uniform(-3, 3, (120, 2))
    label = np.digitize(P[:, 0], [-1, 1])
    text = "x,y,label\n" + "".join(f"{x},{y},{c}\n" for (x, y), c in zip(P.tolist(), label))
    info = client.session(dataset="csv", csv=text, layers=[4])
    assert (info["classes"], info["sizes"][-1], info["output"], info["cost"]) == \
        (3, 3, "softmax", "log-likelihood")
    assert "csv" not in info["config"]
    maps = client.call("GET", f"/api/sessions/{info['id']}/heatmaps?grid=10")
    assert len(maps["output"]) == 3


def test_digits_session(client):
    info = client.session(dataset="digits", layers=[16], batch_size=32)
    assert info["sizes"] == [64, 16, 10] and info["n_test"] == 359 and not info["planar"]
    status = client.call("POST", f"/api/sessions/{info['id']}/step", {"epochs": 2})
    assert status["test_accuracy"] > 0.5 and math.isfinite(status["train_loss"])


def test_the_page_and_its_files_are_served(client):
    code, headers, body = client.raw("GET", "/")
    assert code == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for name in ("app.js", "draw.js", "explain.js", "style.css"):
        code, headers, body = client.raw("GET", f"/static/{name}")
        body = body.replace(b"http://www.w3.org/2000/svg", b"")    # SVG's namespace, not a URL
        assert code == 200 and body and b"http://" not in body and b"https://" not in body
        assert b"//cdn" not in body and b"import(" not in body
    options = client.call("GET", "/api/options")
    assert options["bounds"]["neurons"] == 256 and "spiral" in options["datasets"]



def test_a_model_with_a_nan_weight_is_not_exported_and_the_error_names_model_npz(server, client):
    sid = client.session(dataset="gauss", layers=[3], seed=1)["id"]
    server.sessions.get(sid).net.weights[0][0, 0] = float("nan")
    code, _, body = client.raw("GET", f"/api/sessions/{sid}/model.npz")
    error = json.loads(body)["error"]
    assert code == 400
    assert error == ("model.npz: not written: W1 holds 1 non-finite value (NaN or inf); any "
                     "file already there is kept")
