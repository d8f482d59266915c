"""The playground's HTTP server: the page (package data) and a JSON API, standard library only.

Every request is bounded (body size, socket timeout, work per step, sessions kept) and every
bad one is answered 4xx with ``{"error": "..."}``; nothing is fetched from elsewhere (the page
is sent with a Content-Security-Policy that allows only this server). Requests whose Host
header is not this loopback server's are refused, so a web page cannot reach it through DNS
rebinding. The routes are listed in :data:`ROUTES` and documented in docs/playground.md.

>>> server = make_server("127.0.0.1", 0)
>>> server.server_address[0], server.sessions.limit
('127.0.0.1', 32)
>>> server.server_close()
"""

from __future__ import annotations

import base64
import http.server
import ipaddress
import json
import os
import re
import secrets
import tempfile
import threading
from collections import OrderedDict
from importlib import resources
from urllib.parse import parse_qs, urlsplit

import numpy as np

import chainrule as cr
from chainrule.errors import InputError, RunFailed, quoted
from chainrule.playground import why
from chainrule.playground.config import (
    COSTS,
    DEFAULTS,
    HIDDEN_ACTIVATIONS,
    MAX_LAYERS,
    MAX_NEURONS,
    MAX_POINTS,
    OPTIMIZERS,
    OUTPUTS,
)
from chainrule.playground.datasets import DATASETS, FEATURES, MAX_CSV_BYTES
from chainrule.playground.session import MAX_GRID, Session
from chainrule.reading import loads_json

MAX_BODY = MAX_CSV_BYTES + (64 << 10)   # a JSON body: an uploaded CSV and some room
MAX_SESSIONS = 32                       # kept at once; the least recently used goes first
SOCKET_TIMEOUT = 20                     # seconds a client may take to send its request
STATIC = {"index.html": "text/html", "app.js": "text/javascript", "draw.js": "text/javascript",
          "explain.js": "text/javascript", "style.css": "text/css"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'")


class HTTPError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Sessions:
    """The live sessions by id, at most ``limit``; the least recently used is dropped first."""

    def __init__(self, limit=MAX_SESSIONS):
        self.limit, self._items, self._lock = limit, OrderedDict(), threading.Lock()

    def add(self, session):
        session.id = secrets.token_hex(8)
        with self._lock:
            self._items[session.id] = session
            while len(self._items) > self.limit:
                self._items.popitem(last=False)
        return session

    def get(self, sid):
        with self._lock:
            session = self._items.get(sid)
            if session is None:
                raise HTTPError(404, f"unknown session {quoted(sid)} (it may have expired: at most "
                                     f"{self.limit} sessions are kept; create a new one)")
            self._items.move_to_end(sid)
            return session

    def replace(self, old, new):
        new.id = old.id
        with self._lock:
            self._items[old.id] = new
        return new

    def remove(self, sid):
        with self._lock:
            if self._items.pop(sid, None) is None:
                raise HTTPError(404, f"unknown session {quoted(sid)}")


# -- encodings -------------------------------------------------------------------------------
def _pack(values):
    """One heatmap: its range and its values quantised to bytes, base64 (q = 255 (v−lo)/(hi−lo))."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    span = hi - lo
    q = np.zeros(values.shape, np.uint8) if span == 0 else \
        np.rint(np.clip((np.nan_to_num(values, nan=lo) - lo) / span, 0, 1) * 255).astype(np.uint8)
    return {"lo": lo, "hi": hi, "b64": base64.b64encode(q.tobytes()).decode("ascii")}


def _finite(value):
    """``value`` with every NaN or ±inf float replaced by None (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def encode_heatmaps(maps):
    return {"grid": maps["grid"], "domain": maps["domain"],
            "features": [_pack(v) for v in maps["features"]],
            "layers": [[_pack(v) for v in layer] for layer in maps["layers"]],
            "output": [_pack(v) for v in maps["output"]]}


def _csv(X, y):
    """Feature columns, then the label (or a regression target) last, as load_csv reads it."""
    rows = ["".join(f"f{i + 1}," for i in range(X.shape[1])) + ("label" if y.ndim == 1 else
                                                                  "target")]
    labels = [str(int(v)) if y.ndim == 1 else repr(float(v[0])) for v in y]
    rows += [",".join(repr(float(v)) for v in x) + f",{label}" for x, label in zip(X, labels)]
    return ("\n".join(rows) + "\n").encode("ascii")


def _model_bytes(session):
    """The session's network as a model file's bytes; errors name ``model.npz``, not the
    temporary file it is written to (a NaN weight typed in is refused, as by ``cr.nn.save``)."""
    try:
        with tempfile.TemporaryDirectory(prefix="playground-") as folder:
            path = os.path.join(folder, "model.npz")
            try:
                cr.nn.save(session.net, path)
            except InputError as error:
                raise InputError(str(error).replace(path, "model.npz")) from None
            with open(path, "rb") as f:
                return f.read()
    except OSError as error:
        reason = os.strerror(error.errno).lower() if error.errno else str(error)
        raise RunFailed(f"model.npz: cannot write it in {tempfile.gettempdir()}: "
                        f"{reason}") from None


# -- the API ---------------------------------------------------------------------------------
def _int(query, key, required=True):
    values = query.get(key)
    if not values:
        if required:
            raise InputError(f"{key}: missing (add ?{key}=...)")
        return None
    if not re.fullmatch(r"-?\d{1,9}", values[0]):
        raise InputError(f"{key}: expected an integer, got {quoted(values[0][:40])}")
    return int(values[0])


def _weight(query):
    return _int(query, "layer"), _int(query, "row"), _int(query, "col", required=False)


def options():
    """Names, defaults and bounds, for the page's controls and for scripts."""
    return {"datasets": list(DATASETS), "features": {k: v[0] for k, v in FEATURES.items()},
            "activations": list(HIDDEN_ACTIVATIONS), "outputs": list(OUTPUTS),
            "costs": list(COSTS), "optimizers": list(OPTIMIZERS), "defaults": DEFAULTS,
            "bounds": {"layers": MAX_LAYERS, "neurons": MAX_NEURONS, "points": MAX_POINTS,
                       "grid": MAX_GRID, "body_bytes": MAX_BODY, "csv_bytes": MAX_CSV_BYTES,
                       "sessions": MAX_SESSIONS}}


def _step(session, body):
    grid = body.pop("grid", None)
    unknown = sorted(set(body) - {"epochs", "batches"})
    if unknown:
        raise InputError(f"step: unknown key {quoted(unknown[0])}; expected epochs or batches, "
                         f"grid")
    if grid is not None:
        session.check_grid(grid)         # before training: a bad request changes nothing
    result = session.step(body.get("epochs"), body.get("batches"))
    if grid is not None:
        result["heatmaps"] = encode_heatmaps(session.heatmaps(grid))
    return result


def _set_weight(session, body):
    unknown = sorted(set(body) - {"layer", "row", "col", "value"})
    if unknown:
        raise InputError(f"weights: unknown key {quoted(unknown[0])}; expected layer, row, col, "
                         f"value")
    for key in ("layer", "row", "value"):
        if key not in body:
            raise InputError(f"weights: missing {quoted(key)}")
    value = session.set_param(body["layer"], body["row"], body.get("col"), body["value"])
    return {**session.status(), "value": value,
            "params": [p.tolist() for p in session.net.params]}


# (method, action) -> (handler(session, query or body), what it returns)
GETS = {
    "": lambda s, q: s.describe(),
    "data": lambda s, q: s.data_json(),
    "heatmaps": lambda s, q: encode_heatmaps(s.heatmaps(_int(q, "grid", False) or 50)),
    "ledger": lambda s, q: why.ledger(s, _int(q, "index")),
    "nudges": lambda s, q: why.nudges(s, *_weight(q)),
    "paths": lambda s, q: why.paths(s, *_weight(q), index=_int(q, "index", False)),
    "gradcheck": lambda s, q: why.gradcheck(s, *_weight(q)),
    "stuck": lambda s, q: why.stuck(s),
}
POSTS = {"step": _step, "weights": _set_weight}
ROUTES = ("GET /", "GET /api/options", "POST /api/sessions", "GET|DELETE /api/sessions/{id}",
          *(f"GET /api/sessions/{{id}}/{a}" for a in GETS if a),
          "POST /api/sessions/{id}/step", "POST /api/sessions/{id}/weights",
          "POST /api/sessions/{id}/reset", "GET /api/sessions/{id}/model.npz",
          "GET /api/sessions/{id}/train.csv", "GET /api/sessions/{id}/test.csv")
_SESSION_PATH = re.compile(r"/api/sessions/([0-9a-f]{16})(?:/([a-z.]+))?")


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "chainrule-playground"
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT

    def log_message(self, format, *args):      # quiet: the terminal shows only the URL
        pass

    # -- replies
    def _send(self, status, body, content_type, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in extra:
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):   # the client has gone
                self.close_connection = True

    def _json(self, status, payload):
        try:
            text = json.dumps(payload, allow_nan=False)
        except ValueError:         # an overflowed number (a huge weight typed in): null in JSON
            text = json.dumps(_finite(payload), allow_nan=False)
        self._send(status, text.encode("utf-8"), "application/json")

    def _error(self, status, message):
        self.close_connection = True
        self._json(status, {"error": message})

    # -- checks
    def _check_host(self):
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
        bound = self.server.server_address[0]
        try:
            loopback = ipaddress.ip_address(bound).is_loopback
        except ValueError:
            loopback = False
        if loopback and host not in ("localhost", "127.0.0.1", "::1", bound):
            raise HTTPError(403, f"Host {quoted(host)} is not this server (127.0.0.1)")
        origin = self.headers.get("Origin")
        if origin and urlsplit(origin).hostname not in ("localhost", "127.0.0.1", "::1", bound,
                                                        host):
            raise HTTPError(403, f"requests from {quoted(origin)} are not accepted")

    def _body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            raise HTTPError(411, "send a Content-Length, not a chunked body")
        length = self.headers.get("Content-Length")
        if length is None:
            raise HTTPError(411, "missing Content-Length")
        if not length.isdigit():
            raise HTTPError(400, f"Content-Length: not a number: {quoted(length[:20])}")
        if int(length) > MAX_BODY:
            raise HTTPError(413, f"body of {length} bytes; the limit is {MAX_BODY}")
        raw = self.rfile.read(int(length))
        if len(raw) != int(length):
            raise HTTPError(400, "the body ended before Content-Length bytes")
        if not raw.strip():
            return {}
        try:
            body = loads_json(raw, "malformed JSON body", max_bytes=MAX_BODY)
        except InputError as error:
            raise HTTPError(400, str(error)) from None
        if not isinstance(body, dict):
            raise HTTPError(400, "the body must be a JSON object")
        return body

    # -- dispatch
    def _handle(self, method):
        try:
            self._check_host()
            url = urlsplit(self.path)
            try:
                query = parse_qs(url.query, keep_blank_values=True, max_num_fields=20)
            except ValueError as error:      # more fields than that
                raise HTTPError(400, f"bad query: {error}") from None
            body = self._body() if method == "POST" else None
            self._route(method, url.path, query, body)
        except HTTPError as error:
            self._error(error.status, str(error))
        except InputError as error:
            self._error(400, str(error))
        except RunFailed as error:
            self._error(409, str(error))
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
        except Exception as error:  # a bug in chainrule: still a JSON answer, not a hang
            self._error(500, f"internal error: {type(error).__name__}: {error}")

    def do_GET(self):
        self._handle("GET")

    def do_HEAD(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def _route(self, method, path, query, body):
        if path in ("/", "/index.html") or path.startswith("/static/"):
            self._need(method, "GET")
            return self._static("index.html" if path in ("/", "/index.html") else path[8:])
        if path == "/api/options":
            self._need(method, "GET")
            return self._json(200, options())
        if path == "/api/sessions":
            self._need(method, "POST")
            return self._json(201, self.server.sessions.add(Session(body)).describe())
        match = _SESSION_PATH.fullmatch(path)
        if match is None:
            raise HTTPError(404, f"no such page or API route: {path[:80]}; routes: "
                                 + "; ".join(ROUTES))
        session = self.server.sessions.get(match.group(1))
        action = match.group(2) or ""
        if action == "" and method == "DELETE":
            self.server.sessions.remove(session.id)
            return self._json(200, {"deleted": session.id})
        if action == "reset":
            self._need(method, "POST")
            with session.lock:
                fresh = Session(session.config)
            return self._json(200, self.server.sessions.replace(session, fresh).describe())
        if action in POSTS:
            self._need(method, "POST")
            with session.lock:
                return self._json(200, POSTS[action](session, body))
        self._need(method, "GET")
        if action == "model.npz":
            with session.lock:
                data = _model_bytes(session)
            return self._send(200, data, "application/octet-stream", [(
                "Content-Disposition", f'attachment; filename="playground-{session.id}.npz"')])
        if action in ("train.csv", "test.csv"):
            with session.lock:
                X, y = session.split(action[:-4])
            return self._send(200, _csv(X, y), "text/csv", [(
                "Content-Disposition", f'attachment; filename="{action}"')])
        if action not in GETS:
            raise HTTPError(404, f"no such session route: {quoted(action)}; routes: "
                                 + "; ".join(ROUTES))
        with session.lock:
            return self._json(200, GETS[action](session, query))

    def _need(self, method, allowed):
        if method != allowed:
            raise HTTPError(405, f"{method} is not allowed here; use {allowed}")

    def _static(self, name):
        if name not in STATIC:
            raise HTTPError(404, f"no such file: {name[:80]}")
        data = resources.files("chainrule.playground").joinpath("static", name).read_bytes()
        extra = [("Content-Security-Policy", CSP)] if name == "index.html" else []
        self._send(200, data, STATIC[name] + "; charset=utf-8", extra)


class PlaygroundServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, sessions=None):
        super().__init__(address, Handler)
        self.sessions = sessions or Sessions()


def make_server(host="127.0.0.1", port=8765) -> PlaygroundServer:
    """A server bound to (host, port) (port 0: a free one), not yet serving."""
    return PlaygroundServer((host, port))
