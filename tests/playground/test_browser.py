"""The page in headless Chromium, driven through its test hooks (data-testid) as a user would.

Needs Debian's Chromium (``apt-get install -y chromium``) and Playwright for Python (the
``test`` extra); never ``playwright install``. Screenshots go to a temporary folder, and to
docs/img/ when CHAINRULE_SCREENSHOTS=1.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("needs Chromium at /usr/bin/chromium: apt-get install -y chromium",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="needs Playwright for Python: pip install playwright")

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    """A fresh page on the test server, recording console errors and every request."""
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.errors, page.requests = [], []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.requests.append(r.url))
    page.base = base
    yield page
    context.close()


def _open(page, fragment=""):
    page.goto(page.base + fragment)
    page.wait_for_selector("[data-testid=network] .unit")
    _until(page, "document.querySelector('[data-testid=train-loss]').textContent"
                 " !== '–'")


def _shoot(page, name, tmp_path, **kw):
    path = tmp_path / f"playground-{name}.png"
    page.screenshot(path=str(path), **kw)
    assert path.stat().st_size > 10_000          # a real picture, not a blank page
    if os.environ.get("CHAINRULE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_IMG / path.name)


def _until(page, condition, timeout=10_000):
    """Wait until the JavaScript ``condition`` holds (a function: the page's CSP forbids eval);
    EPOCH stands for the epoch counter's text."""
    condition = condition.replace("EPOCH", "document.querySelector('[data-testid=epoch]')"
                                  ".textContent")
    page.wait_for_function(f"() => {condition}", timeout=timeout)


def _loss(page):
    return float(page.text_content("[data-testid=train-loss]"))


def _epoch(page):
    return int(page.text_content("[data-testid=epoch]"))


def test_loads_without_errors_or_outside_requests(page):
    _open(page)
    page.wait_for_timeout(300)
    assert page.errors == []
    outside = [u for u in page.requests if not u.startswith(page.base) and
               not u.startswith("data:")]
    assert outside == [] and any("/api/sessions/" in u for u in page.requests)
    assert page.locator("[data-testid=network] .unit").count() == 2 + 4 + 2 + 1
    assert page.locator("[data-testid=network] path.weight").count() == 8 + 8 + 2


def test_play_makes_the_loss_fall_and_paints_the_output(page, tmp_path):
    _open(page, "#dataset=circle&layers=4,2&lr=0.3&seed=1")
    first = _loss(page)
    page.click("[data-testid=play]")
    _until(page, "Number(EPOCH) >= 40", timeout=30_000)
    page.click("[data-testid=play]")
    page.wait_for_timeout(200)
    assert _loss(page) < 0.6 * first
    assert float(page.text_content("[data-testid=test-loss]")) < first
    # the output plane shows both colours: blue inside the circle, orange outside
    colours = page.evaluate("""() => {
        const c = document.getElementById('output-canvas').getContext('2d');
        const at = (x, y) => Array.from(c.getImageData(x, y, 1, 1).data);
        return [at(150, 150), at(6, 6)]; }""")
    centre, corner = colours
    assert centre[2] > centre[0] and corner[0] > corner[2]
    _shoot(page, "trained", tmp_path, full_page=False)
    assert page.errors == []


def test_step_moves_one_batch_or_one_epoch(page):
    _open(page)
    page.click("[data-testid=step]")
    _until(page, "document.getElementById('batch-of').textContent === 'batch 1/25'")
    assert _epoch(page) == 0
    page.select_option("#step-size", "epoch")
    page.click("[data-testid=step]")
    _until(page, "Number(EPOCH) === 1")
    page.click("[data-testid=reset]")
    _until(page, "Number(EPOCH) === 0")


def test_click_a_point_shows_its_ledger(page, tmp_path):
    _open(page, "#layers=3&seed=2")
    page.click("[data-testid=step]")
    point = page.evaluate("""async () => {
        const sid = document.getElementById('export').getAttribute('href').split('/')[3];
        const d = await (await fetch(`/api/sessions/${sid}/data`)).json();
        return d.train.points[5]; }""")
    box = page.locator("#output-canvas").bounding_box()
    page.mouse.click(box["x"] + (point[0] + 6) / 12 * box["width"],
                     box["y"] + (6 - point[1]) / 12 * box["height"])
    page.wait_for_selector("[data-testid=ledger] table")
    text = page.text_content("[data-testid=ledger]")
    assert re.search(r"training point \d+", text) and "BP1" in text and "BP2" in text
    assert "BP4" in text and "∂C/∂b (BP3)" in text
    notes = page.locator("[data-testid=network] .unit .note").all_text_contents()
    assert any(n.startswith("z ") and "δ" in n for n in notes)      # laid over the drawing
    _shoot(page, "ledger", tmp_path, full_page=True)


def test_click_a_weight_shows_its_nudges(page, tmp_path):
    _open(page, "#layers=4,2&seed=3")
    page.click("[data-testid=step]")
    page.click("[data-testid=network] path.hit[data-layer='2'][data-col='1']")
    page.wait_for_selector("[data-testid=nudges] svg rect")
    assert page.locator("[data-testid=nudges] svg rect").count() == 10      # one per example
    text = page.text_content("[data-testid=nudges]")
    assert "w^3[0][1]" in text and "the step is the average nudge" in text
    assert "1 path(s)" in text and "✓ agree" in text
    page.hover("[data-testid=network] path.hit[data-layer='2'][data-col='0']")
    assert "w^3[0][0] =" in page.text_content(".tip")
    _shoot(page, "nudges", tmp_path, full_page=True)
    page.fill("[data-testid=nudges] input[name=value]", "1.5")          # edit the weight
    page.click("[data-testid=nudges] button[type=submit]")
    _until(page, "document.querySelector('[data-testid=nudges] input').value === '1.5'")
    page.hover("[data-testid=network] path.hit[data-layer='2'][data-col='1']")
    assert "w^3[0][1] = 1.5000" in page.text_content(".tip")
    assert page.errors == []


def test_the_url_holds_the_setup(page):
    _open(page, "#dataset=xor&layers=3&lr=0.3&activation=relu&features=x1,x2,x1_x2")
    assert page.locator("#lr").input_value() == "0.3"
    assert page.locator("#activation").input_value() == "relu"
    assert page.locator("[data-testid=network] .unit").count() == 3 + 3 + 1
    page.select_option("#lr", "0.03")
    _until(page, "location.hash.includes('lr=0.03')")
    assert "dataset=xor" in page.url and "features=x1%2Cx2%2Cx1_x2" in page.url


def test_upload_a_csv_of_three_classes(page, tmp_path):
    rows = [f"{x / 4},{y / 4},{(x > 0) + (x > 6)}" for x in range(-12, 13, 2)
            for y in range(-12, 13, 3)]
    path = tmp_path / "three.csv"
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    _open(page)
    page.set_input_files("#csv-file", str(path))  # a 2-4-2-3 network
    _until(page, "document.querySelectorAll('[data-testid=network] .unit').length === 11")
    assert "three.csv" in page.text_content("#csv-note")
    assert page.locator("#output").input_value() == "softmax"
    assert "dataset=csv" in page.url
    assert page.errors == []


def test_digits_are_clickable_examples(page):
    _open(page, "#dataset=digits&layers=8&batch_size=50")
    page.click("[data-testid=output-heatmap] .digits canvas >> nth=2")
    page.wait_for_selector("[data-testid=ledger] table")
    assert "Ledger of training point 2" in page.text_content("[data-testid=ledger]")
    assert page.locator("[data-testid=network] .unit").count() == 64 + 8 + 10


def test_a_first_layer_weight_shows_its_paths_on_the_network(page, tmp_path):
    _open(page, "#layers=3,3&seed=4&features=x1,x2,x1_sq")
    page.select_option("#step-size", "epoch")
    page.click("[data-testid=step]")
    _until(page, "Number(EPOCH) === 1")
    hit = page.locator("[data-testid=network] path.hit[data-layer='0'][data-row='1'][data-col='2']")
    x, y = hit.evaluate("""(el) => {   // a point on the curve, away from where edges cross
        const p = el.getPointAtLength(el.getTotalLength() * 0.3), m = el.getScreenCTM();
        return [p.x * m.a + m.e, p.y * m.d + m.f]; }""")
    page.mouse.click(x, y)
    page.wait_for_selector("[data-testid=nudges] .factor")
    text = page.text_content("[data-testid=nudges]")
    assert "w^1[1][2]" in text and "3 path(s)" in text and "σ'(z^1[1])" in text
    # the three paths on the drawing: 1 -> (0, 1, 2) in layer 2 -> the output
    assert page.locator("[data-testid=network] path.weight.on-path").count() == 3 + 3
    _shoot(page, "paths", tmp_path, full_page=True)



def test_refused_settings_are_explained_and_undone(page, tmp_path):
    _open(page, "#layers=4,oops")
    assert "layers" in page.text_content("#status")             # what was wrong, in words
    assert "default setup" in page.text_content("#status")
    assert page.locator("[data-testid=network] .unit").count() == 2 + 4 + 2 + 1
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,0\n3,x,1\n")
    page.set_input_files("#csv-file", str(bad))
    _until(page, "document.getElementById('status').textContent.includes('not a number')")
    assert "csv:2:2" in page.text_content("#status")
    assert "dataset=circle" in page.url                          # the run before is kept
    assert page.locator("[data-testid=network] .unit").count() == 2 + 4 + 2 + 1
