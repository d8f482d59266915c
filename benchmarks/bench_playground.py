"""The playground's animation budget: server work per frame ≤ 30 ms, page script per frame < 16 ms.

One frame of ``play`` is one request: ten mini-batches of training and the 50×50 heatmap of
every unit (and input feature) of a network with six hidden layers of eight units, on the
circle data set (batch size 10). Timed three ways, alternating, medians of ``--repeats``:

- ``step``: ``Session.step(batches=10)`` alone (BP1-BP4 and the optimiser, as ``cr.train``);
- ``heatmaps``: ``Session.heatmaps(50)`` and their packing into bytes (49 maps of 2,500);
- ``frame``: both, in process; ``http``: the same frame as ``POST /step {"batches": 10,
  "grid": 50}`` through a real server on 127.0.0.1 (JSON and the socket included).

With Chromium at /usr/bin/chromium and Playwright, the page then plays the same network for a
few seconds: the script time of each frame's drawing (``performance.measure`` around it) and
Chrome's own ScriptDuration per frame over the run.

Run: ``python benchmarks/bench_playground.py [--repeats 60] [--seconds 4] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time

from chainrule.playground.server import encode_heatmaps, make_server
from chainrule.playground.session import Session

CONFIG = {"dataset": "circle", "layers": [8] * 6, "batch_size": 10, "seed": 0}
SERVER_BUDGET_MS, FRAME_BUDGET_MS = 30.0, 16.0


def _ms(fn):
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1e3


def server_side(repeats):
    session = Session(CONFIG)
    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    sid = server.sessions.add(Session(CONFIG)).id
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"batches": 10, "grid": 50})

    def over_http():
        connection.request("POST", f"/api/sessions/{sid}/step", body,
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 200, response.read()
        return response.read()

    runs = {
        "step": lambda: session.step(batches=10),
        "heatmaps": lambda: encode_heatmaps(session.heatmaps(50)),
        "frame": lambda: (session.step(batches=10), encode_heatmaps(session.heatmaps(50))),
        "http": over_http,
    }
    for fn in runs.values():            # warm up: buffers, caches, the connection
        fn()
    times = {name: [] for name in runs}
    for _ in range(repeats):            # alternating, so drift hits all of them alike
        for name, fn in runs.items():
            times[name].append(_ms(fn))
    size = len(over_http())
    connection.close()
    server.shutdown()
    server.server_close()
    return {name: statistics.median(t) for name, t in times.items()}, size


def page_side(seconds):
    """Median and 95th percentile of the drawing's script time per frame, and Chrome's
    ScriptDuration per frame, while the page plays; None without Chromium/Playwright."""
    if not os.path.exists("/usr/bin/chromium"):
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/#layers={','.join(['8'] * 6)}"
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_selector("[data-testid=network] .unit canvas")
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")

        def metrics():
            return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}

        page.evaluate("() => performance.clearMeasures()")
        before = metrics()
        page.click("[data-testid=play]")
        page.wait_for_timeout(seconds * 1000)
        page.click("[data-testid=play]")
        after = metrics()
        frames = page.evaluate("() => performance.getEntriesByName('playground-frame')"
                               ".map((e) => e.duration)")
        browser.close()
    server.shutdown()
    server.server_close()
    frames.sort()
    script = (after["ScriptDuration"] - before["ScriptDuration"]) * 1e3 / max(len(frames), 1)
    return {"frames": len(frames), "draw_median_ms": statistics.median(frames),
            "draw_p95_ms": frames[int(0.95 * (len(frames) - 1))],
            "script_per_frame_ms": script, "fps": len(frames) / seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--json", metavar="OUT.json")
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f}; network 2-{'-'.join(['8'] * 6)}-1, "
          f"batch 10, 50x50 heatmaps", flush=True)
    server, size = server_side(args.repeats)
    for name, ms in server.items():
        print(f"  {name:<9} {ms:7.2f} ms (median of {args.repeats})")
    print(f"  frame / budget {SERVER_BUDGET_MS:.0f} ms = {server['frame'] / SERVER_BUDGET_MS:.2f};"
          f" over HTTP {server['http'] / SERVER_BUDGET_MS:.2f} ({size / 1024:.0f} KiB a frame)")
    page = page_side(args.seconds)
    if page is None:
        print("  page: skipped (needs /usr/bin/chromium and Playwright: apt-get install -y "
              "chromium; pip install playwright)")
    else:
        print(f"  page: {page['frames']} frames in {args.seconds:g} s ({page['fps']:.1f}/s); "
              f"drawing {page['draw_median_ms']:.2f} ms median, {page['draw_p95_ms']:.2f} ms "
              f"p95; all script {page['script_per_frame_ms']:.2f} ms a frame; / budget "
              f"{FRAME_BUDGET_MS:.0f} ms = {page['script_per_frame_ms'] / FRAME_BUDGET_MS:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"server_ms": server, "frame_bytes": size, "page": page}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
