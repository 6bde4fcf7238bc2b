"""Explorer latency: decode requests (one point, a 10-step interpolation) through the real
HTTP stack, and time to an interactive page in headless Chromium for 10,000 and 60,000 points.

    python benchmarks/explore_latency.py [--repeats 200]

The model is the default MLP VAE (``VAE()``), fitted for one epoch: decode cost does not
depend on training. The 60,000-point run uses the embedded digits tiled with a little noise
(an .npz written to a temporary folder), so no download is needed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def _run(base: Path, name: str, X: np.ndarray, y: np.ndarray) -> Path:
    from latentmodels import VAE
    from latentmodels.rundir import MODEL_FILE, run_header, write_run

    out = base / name
    out.mkdir()
    data = base / f"{name}.npz"
    np.savez(data, images=(X * 255).astype(np.uint8), labels=y)
    model = VAE(epochs=1, verbose=0, random_state=0).fit(X[:2000])
    model.save(out / MODEL_FILE)
    write_run(out, {**run_header(["bench"], model),
                    "data": {"source": str(data), "test_fraction": 0.0}, "metrics": {}})
    return out


def _percentiles(seconds: list[float]) -> str:
    ms = np.array(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()

    import uvicorn
    from starlette.testclient import TestClient

    from latentmodels import datasets
    from latentmodels.explore import ExploreSession
    from latentmodels.explore.server import create_app

    X, y = datasets.load_mnist()
    base = Path(tempfile.mkdtemp())
    try:
        rng = np.random.default_rng(0)
        big = np.clip(np.concatenate([X] * 8)[:60000]
                      + rng.normal(0, 0.02, (60000, 28, 28)).astype(np.float32), 0, 1)
        runs = {10000: _run(base, "n10k", big[:10000], np.concatenate([y] * 8)[:10000]),
                60000: _run(base, "n60k", big, np.concatenate([y] * 8)[:60000])}

        started = time.perf_counter()
        session = ExploreSession(runs[10000])
        print(f"session (10,000 points: encode, score, clusters): "
              f"{time.perf_counter() - started:.1f} s")
        client = TestClient(create_app(runs[10000], session=session))
        z = session.codes[0].tolist()
        one, path = [], []
        for i in range(args.repeats):
            t0 = time.perf_counter()
            assert client.post("/api/decode", json={"z": [z]}).status_code == 200
            one.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            assert client.post("/api/interpolate", json={"start": i % 100, "end": 100 + i % 100,
                                                         "steps": 10}).status_code == 200
            path.append(time.perf_counter() - t0)
        print(f"decode one point (HTTP, PNG): {_percentiles(one)}")
        print(f"interpolate 10 steps (HTTP, PNGs + strip): {_percentiles(path)}")

        from playwright.sync_api import sync_playwright

        chromium = shutil.which("chromium")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium,
                                                 args=["--no-sandbox"])
            for n, run in runs.items():
                t0 = time.perf_counter()
                session = ExploreSession(run)
                loaded = time.perf_counter() - t0
                server = uvicorn.Server(uvicorn.Config(create_app(run, session=session),
                                                       host="127.0.0.1", port=0,
                                                       log_level="error"))
                thread = threading.Thread(target=server.run, daemon=True)
                thread.start()
                while not server.started:
                    time.sleep(0.05)
                port = server.servers[0].sockets[0].getsockname()[1]
                page = browser.new_page()
                t0 = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_function("window.exploreReady === true", timeout=300_000)
                ready = time.perf_counter() - t0
                print(f"{n:,} points: run loaded in {loaded:.1f} s, page interactive "
                      f"{ready:.2f} s after navigation")
                page.close()
                server.should_exit = True
                thread.join()
            browser.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
