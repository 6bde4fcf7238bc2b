"""The explorer page end to end in headless Chromium (Debian's ``chromium`` package driven by
Playwright): map, hover, click to decode, a slider, interpolation, an LDA run, an HMM run and
the static page."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("no chromium on this machine (apt-get install chromium; .ci/run installs it)",
                allow_module_level=True)
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)")
uvicorn = pytest.importorskip("uvicorn", reason="the explore extra (uvicorn) is not installed")

from explore_runs import hmm_run, lda_run, vae_run  # noqa: E402

from latentmodels.explore import ExploreSession  # noqa: E402
from latentmodels.explore.export import write_static_page  # noqa: E402
from latentmodels.explore.server import create_app  # noqa: E402

READY = "window.exploreReady === true"
# Page position of a map point, from Plotly's axes (data -> pixels).
POINT_XY = """i => { const gd = document.getElementById('map'), l = gd._fullLayout;
  const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
  return [box.left + l.xaxis.d2p(gd.data[0].x[i]), box.top + l.yaxis.d2p(gd.data[0].y[i])]; }"""


class _Server:
    """A uvicorn server on a free loopback port, in a thread."""

    def __init__(self, run_dir: Path) -> None:
        config = uvicorn.Config(create_app(run_dir), host="127.0.0.1", port=0, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the explorer server did not start")
            time.sleep(0.05)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("explore_browser")
    return {"vae": vae_run(base / "vae"), "lda": lda_run(base / "lda"),
            "hmm": hmm_run(base / "hmm")}


@pytest.fixture(scope="module")
def servers(runs):
    started = {name: _Server(path) for name, path in runs.items()}
    yield started
    for server in started.values():
        server.stop()


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function(READY, timeout=60_000)
    return page, errors


def _click_empty_spot(page, expected: str) -> None:
    """Click empty space on the map until ``#decode-info`` mentions ``expected``.

    A click that lands near a point selects it instead of decoding empty space, and on a
    busy machine a decode can outlast one wait (a CI run timed out at the top-left corner):
    try the plot's corners away from the mode bar, each with its own wait; a decode that
    finishes late still counts, since the condition is checked on every try."""
    box = page.locator("#map .nsewdrag").bounding_box()
    decoded = f"document.getElementById('decode-info').textContent.includes('{expected}')"
    for dx, dy in ((6, 6), (6, box["height"] - 6), (box["width"] - 6, box["height"] - 6),
                   (box["width"] / 2, 8)):
        page.mouse.click(box["x"] + dx, box["y"] + dy)
        try:
            page.wait_for_function(decoded, timeout=15_000)
            return
        except playwright_api.TimeoutError:
            continue
    raise AssertionError(f"no click on empty map space gave a decode ({expected!r})")


def test_latent_page_map_hover_decode_slider_interpolate(browser, servers):
    page, errors = _open(browser, servers["vae"].url)
    n_points = page.evaluate("document.getElementById('map').data[0].x.length")
    assert n_points == 60
    assert page.inner_text("#anomaly-count").startswith(f"3 of {n_points} flagged")

    # Hover: the point's input and reconstruction appear.
    x, y = page.evaluate(POINT_XY, 7)
    page.mouse.move(x, y)
    page.wait_for_function("document.getElementById('hover-recon').src.startsWith('data:image')")
    assert page.inner_text("#hover-info").startswith("#")

    # Click an empty spot: it is decoded there, exactly (PCA).
    _click_empty_spot(page, "exact")
    first = page.get_attribute("#decoded", "src")
    assert first.startswith("data:image/png")

    # Drag a slider: the decode follows.
    slider = page.locator("#sliders input").first
    slider_box = slider.bounding_box()
    page.mouse.move(slider_box["x"] + 3, slider_box["y"] + slider_box["height"] / 2)
    page.mouse.down()
    page.mouse.move(slider_box["x"] + slider_box["width"] - 3,
                    slider_box["y"] + slider_box["height"] / 2, steps=5)
    page.mouse.up()
    page.wait_for_function("document.getElementById('decode-info').textContent.includes('sliders')")
    page.wait_for_function(f"document.getElementById('decoded').src !== {first!r}")

    # Pick two points (the map's click event), interpolate, export. A click meant for empty
    # space may have landed on a point and picked it: complete that pair first, so that the
    # next pick starts a new one.
    picks = [3, 11]
    if page.inner_text("#interp-a") != "–" and page.inner_text("#interp-b") == "–":
        picks.insert(0, 0)
    for index in picks:
        page.evaluate(f"document.getElementById('map').emit('plotly_click', "
                      f"{{points: [{{curveNumber: 0, pointIndex: {index}}}]}})")
    assert page.inner_text("#interp-a") == "#3" and page.inner_text("#interp-b") == "#11"
    page.select_option("#interp-mode", "spherical")
    page.click("#interp-button")
    page.wait_for_function("document.querySelectorAll('#interp-frames img').length === 10")
    assert page.get_attribute("#interp-export", "href").startswith("data:image/png")

    # Search by label dims the others.
    label = page.evaluate("document.getElementById('map').data[0].text[0].split(' ')[2]")
    page.fill("#label-search", label)
    selected = page.evaluate("document.getElementById('map').data[0].selectedpoints.length")
    labels = page.evaluate("document.getElementById('map').data[0].text.map(t => t.split(' ')[2])")
    assert selected == sum(1 for value in labels if label in value)
    assert not errors
    page.close()


def test_lda_page_topic_map_relevance_and_documents(browser, servers):
    page, errors = _open(browser, servers["lda"].url)
    assert page.evaluate("document.getElementById('topic-map').data[0].x.length") == 4
    terms_at = "document.getElementById('topic-terms').data[0].y.join(' ')"
    page.evaluate("document.getElementById('topic-map').emit('plotly_click', "
                  "{points: [{pointIndex: 2}]})")
    page.wait_for_function(
        "document.getElementById('topic-title').textContent.startsWith('Topic 2')")
    page.wait_for_function(terms_at + ".length > 0")
    by_default = page.evaluate(terms_at)
    page.locator("#relevance").fill("0")
    page.wait_for_function(f"{terms_at} !== {by_default!r}")
    assert page.locator("#topic-docs li").count() == 10
    assert not errors
    page.close()


def test_hmm_page_states_posteriors_and_a_state_panel(browser, servers):
    page, errors = _open(browser, servers["hmm"].url)
    traces = page.evaluate("document.getElementById('hmm-series').data.length")
    assert traces == 2 + 2  # the series, its state-coloured markers, two posterior bands
    colours = page.evaluate("new Set(document.getElementById('hmm-series').data[1].marker.color)"
                            ".size")
    assert colours == 2
    page.click("#state-1")
    page.wait_for_selector("#transition-row")
    assert page.inner_text("#state-title") == "State 1"
    assert page.inner_text("#transition-row").count("→") == 2
    assert not errors
    page.close()


def test_static_page_opens_from_disk(browser, runs, tmp_path):
    path = write_static_page(ExploreSession(runs["vae"]), tmp_path / "vae.html")
    page, errors = _open(browser, path.as_uri())
    assert page.evaluate("document.getElementById('map').data[0].x.length") == 60
    page.mouse.move(*page.evaluate(POINT_XY, 2))
    page.wait_for_function("document.getElementById('hover-input').src.startsWith('data:image')")
    _click_empty_spot(page, "precomputed")
    assert not errors
    page.close()
