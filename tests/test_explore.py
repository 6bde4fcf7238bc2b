"""The explorer's session and JSON API: numbers behind the map and decodes, validation of every
request, what is served and to whom, and runs that cannot be explored."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the explore extra (starlette) is not installed")
pytest.importorskip("httpx", reason="starlette's TestClient needs httpx")

from explore_runs import N_LIMIT, TEST_FRACTION, hmm_run, lda_run, vae_run  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from latentmodels.explore import MAX_BATCH, ExploreSession, RunNotExplorable, relevance  # noqa: E402
from latentmodels.explore.export import write_static_page  # noqa: E402
from latentmodels.explore.server import TOKEN_COOKIE, access_token, create_app  # noqa: E402
from latentmodels.explore.session import _slerp  # noqa: E402
from latentmodels.rundir import RUN_FILE  # noqa: E402

N_POINTS = round(N_LIMIT * TEST_FRACTION)


@pytest.fixture(scope="module")
def vae_dir(tmp_path_factory):
    return vae_run(tmp_path_factory.mktemp("vae"))


@pytest.fixture(scope="module")
def session(vae_dir):
    return ExploreSession(vae_dir)


@pytest.fixture(scope="module")
def client(vae_dir, session):
    return TestClient(create_app(vae_dir, session=session))


# -- the session: numbers ------------------------------------------------------------------------
def test_session_encodes_the_held_out_points_of_the_run(session):
    assert session.family == "latent"
    assert session.n_points == N_POINTS and session.codes.shape == (N_POINTS, 3)
    assert len(session.labels) == N_POINTS and session.scores.shape == (N_POINTS,)
    assert np.allclose(session.codes, session.model.transform(session.X))


def test_the_pca_map_decodes_back_exactly_onto_its_plane(session):
    points = session.map("pca")
    assert points.shape == (N_POINTS, 2)
    # The inverse lands on the plane through the mean code; projecting it again gives the
    # same map position (to rounding), and codes on that plane are recovered exactly.
    latent = session.map_to_latent(points[:5])
    again = (latent - session._pca_mean) @ session._pca_axes.T
    assert np.allclose(again, points[:5], atol=1e-9)
    on_plane = session._pca_mean + np.array([[0.3, -0.2]]) @ session._pca_axes
    assert np.allclose(session.map_to_latent(np.array([[0.3, -0.2]])), on_plane)
    # The projection keeps the most variance of any two directions: at least 2/3 of it in 3-D.
    kept = points.var(0).sum() / session.codes.var(0).sum()
    assert kept >= 2 / 3 - 1e-9


def test_tsne_map_places_every_point_and_its_inverse_is_a_mix_of_near_codes(session):
    points = session.map("tsne")
    assert points.shape == (N_POINTS, 2) and np.isfinite(points).all()
    latent = session.map_to_latent(points[:3], "tsne")
    low, high = session.codes.min(0), session.codes.max(0)
    assert ((latent >= low - 1e-9) & (latent <= high + 1e-9)).all()  # a convex mix of codes


def test_decode_is_the_models_inverse_transform(session):
    z = np.array([[0.5, -1.0, 0.25]])
    images = session.decode(z)["images"]
    assert images == session._images(session.model.inverse_transform(z))
    assert images[0].startswith("data:image/png;base64,")


def test_linear_path_ends_at_the_two_codes_and_spherical_keeps_the_norm(session):
    a, b = session.codes[0], session.codes[1]
    path = np.array(session.interpolate(a, b, steps=5)["z"])
    assert np.allclose(path[0], a, atol=1e-4) and np.allclose(path[-1], b, atol=1e-4)
    assert np.allclose(np.diff(path, axis=0), (b - a) / 4, atol=1e-3)
    u, v = np.array([3.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0])
    arc = _slerp(u, v, np.linspace(0, 1, 7))
    assert np.allclose(np.linalg.norm(arc, axis=1), 3.0)


def test_anomalies_rank_by_score_and_count_those_below_the_threshold(session):
    answer = session.anomalies(4, threshold=float(np.median(session.scores)))
    least = [e["score"] for e in answer["least_typical"]]
    assert least == sorted(least) and least[0] == pytest.approx(session.scores.min(), abs=1e-3)
    assert answer["n_flagged"] == int((session.scores < np.median(session.scores)).sum())


def test_anomalies_rank_by_the_default_detector_calibrated_on_the_training_split(session):
    from latentmodels.rundir import load_run_data
    from latentmodels.tasks.anomaly import AnomalyDetector

    train, _ = load_run_data(session.run_info, part="train")
    expected = AnomalyDetector(session.model).fit(train).score_samples(session.X)
    assert np.array_equal(np.argsort(session.scores, kind="stable"),
                          np.argsort(expected, kind="stable"))
    answer = session.anomalies(3)
    assert [e["index"] for e in answer["least_typical"]] == \
        [int(i) for i in np.argsort(expected, kind="stable")[:3]]
    assert answer["score_source"].startswith("AnomalyDetector(model) default score")
    # not the model's own ranking
    assert not np.array_equal(np.argsort(session.model.score_samples(session.X)),
                              np.argsort(expected))


def test_relevance_one_ranks_by_probability_zero_by_lift():
    phi = np.array([[0.6, 0.3, 0.1], [0.05, 0.05, 0.9]])
    p = np.array([0.4, 0.1, 0.5])
    assert list(np.argsort(-relevance(phi, p, 1.0)[0])) == [0, 1, 2]
    assert list(np.argsort(-relevance(phi, p, 0.0)[0])) == [1, 0, 2]  # lifts 3, 1.5, 0.2
    with pytest.raises(ValueError, match="weight"):
        relevance(phi, p, 1.5)


# -- the API ---------------------------------------------------------------------------------------
def test_page_and_its_assets_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and "latentmodels explorer" in page.text
    sources = re.findall(r"src=['\"]([^'\"]+)", page.text)
    assert sources and all(s.startswith("/assets/") for s in sources)  # never a CDN
    plotly = client.get("/assets/plotly.min.js")
    assert plotly.status_code == 200 and len(plotly.content) > 1_000_000


def test_info_and_map_describe_every_point(client):
    info = client.get("/api/info").json()
    assert info["n_points"] == N_POINTS and info["latent_dim"] == 3
    assert len(info["scores"]) == N_POINTS and len(info["clusters"]) == N_POINTS
    points = client.get("/api/map?method=pca").json()
    assert len(points["x"]) == len(points["y"]) == N_POINTS


def test_decode_and_interpolate_answer_with_images(client, session):
    answer = client.post("/api/decode", json={"xy": [[0.1, 0.2], [0.0, 0.0]]}).json()
    assert len(answer["images"]) == 2 and answer["exact"] is True
    path = client.post("/api/interpolate", json={"start": 0, "end": 1, "steps": 10,
                                                 "mode": "spherical"}).json()
    assert len(path["images"]) == 10 and path["strip"].startswith("data:image/png")
    assert len(client.post("/api/sample", json={"n": 3, "seed": 1}).json()["images"]) == 3
    item = client.get("/api/item/4").json()
    assert item["label"] == session.labels[4] and item["input"].startswith("data:image/png")


@pytest.mark.parametrize("body, status, message", [
    ({"z": [0.0, 1.0]}, 422, "length 3"),
    ({"z": [[0.0, 1.0, 2.0, 3.0]]}, 422, "length 3"),
    ({"z": [0.0, "a", 1.0]}, 422, "only numbers"),
    ({"z": []}, 422, "non-empty"),
    ({"z": [[0.0, 0.0, 0.0]] * (MAX_BATCH + 1)}, 413, f"at most {MAX_BATCH}"),
    ({"xy": [[0.0, 1.0, 2.0]]}, 422, "[x, y]"),
    ({}, 422, "give z"),
])
def test_bad_decode_requests_get_a_4xx_with_a_message(client, body, status, message):
    response = client.post("/api/decode", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert client.get("/api/info").status_code == 200  # still serving


@pytest.mark.parametrize("raw, status, message", [
    ('{"z": [NaN, 0, 0]}', 422, "NaN or infinite"),
    ('{"z": [Infinity, 0, 0]}', 422, "NaN or infinite"),
    ('{"z": [0, 0', 400, "not valid JSON"),
    ('[1, 2, 3]', 400, "JSON object"),
])
def test_non_finite_and_malformed_bodies_are_refused(client, raw, status, message):
    response = client.post("/api/decode", content=raw,
                           headers={"content-type": "application/json"})
    assert response.status_code == status and message in response.json()["error"]


def test_other_bad_requests_are_refused_by_name(client):
    cases = [
        (client.post("/api/interpolate", json={"start": 0, "end": 999}), 422, "end must be in"),
        (client.post("/api/interpolate", json={"start": 0, "end": 1, "steps": 1000}), 422,
         "steps"),
        (client.post("/api/interpolate", json={"start": 0, "end": 1, "mode": "cubic"}), 422,
         "mode"),
        (client.post("/api/sample", json={"n": 10_000}), 422, "n must be"),
        (client.get("/api/map?method=mds"), 422, "method must be"),
        (client.get("/api/anomalies?threshold=abc"), 422, "threshold"),
        (client.get(f"/api/item/{N_POINTS}"), 404, "index must be"),
        (client.get("/api/topics"), 404, "not lda"),
    ]
    for response, status, message in cases:
        assert response.status_code == status, response.text
        assert message in response.json()["error"]


@pytest.mark.parametrize("path", [
    "/assets/../run.json", "/assets/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2fetc%2fpasswd",
    "/run/..%2f..%2f..%2fetc%2fpasswd", "/run/%2fetc%2fpasswd", "/run/model.lm",
    "/run/checkpoints", "/assets/session.py",
])
def test_path_traversal_and_unlisted_files_get_404(client, path):
    assert client.get(path).status_code == 404


def test_the_runs_own_record_is_served(client):
    assert client.get("/run/run.json").json()["model"]["class"] == "VAE"


def test_a_token_is_needed_off_loopback(vae_dir, session):
    assert access_token("127.0.0.1", None) is None and access_token("::1", None) is None
    made = access_token("0.0.0.0", None)
    assert made and access_token("0.0.0.0", None) != made  # fresh each time
    client = TestClient(create_app(vae_dir, token="s3cret-token", session=session))
    assert client.get("/").status_code == 401
    assert client.get("/api/info?token=wrong").status_code == 401
    assert client.get("/", params={"token": "s3cret-token"}).status_code == 200
    assert client.cookies.get(TOKEN_COOKIE) == "s3cret-token"
    assert client.get("/api/info").status_code == 200  # the cookie now carries it
    bare = TestClient(create_app(vae_dir, token="s3cret-token", session=session))
    assert bare.get("/api/info", headers={"X-Explore-Token": "s3cret-token"}).status_code == 200


# -- runs that cannot be explored ----------------------------------------------------------------
def _edited_run(vae_dir, tmp_path, edit):
    run = tmp_path / "run"
    shutil.copytree(vae_dir, run)
    document = json.loads((run / RUN_FILE).read_text())
    edit(document)
    (run / RUN_FILE).write_text(json.dumps(document))
    return run


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(format_version=0), "older latentmodels"),
    (lambda d: d.update(format_version=99), "upgrade latentmodels"),
    (lambda d: d["model"].update({"class": "LDA"}), "describes a LDA"),
    (lambda d: d["data"].update(source="no-such-dataset"), "cannot be reloaded"),
])
def test_a_run_that_cannot_be_explored_gets_an_error_page(vae_dir, tmp_path, edit, message):
    run = _edited_run(vae_dir, tmp_path, edit)
    with pytest.raises(RunNotExplorable, match=message):
        ExploreSession(run)
    client = TestClient(create_app(run))
    page = client.get("/")
    assert page.status_code == 422 and "cannot be explored" in page.text
    assert message in page.text and "Traceback" not in page.text
    assert message in client.get("/api/info").json()["error"]


def test_a_directory_without_a_model_is_refused(tmp_path):
    (tmp_path / RUN_FILE).write_text('{"format_version": 1}')
    with pytest.raises(RunNotExplorable, match="no model.lm"):
        ExploreSession(tmp_path)


# -- topics and hidden states --------------------------------------------------------------------
@pytest.fixture(scope="module")
def lda_client(tmp_path_factory):
    return TestClient(create_app(lda_run(tmp_path_factory.mktemp("lda"))))


def test_lda_map_terms_and_documents(lda_client):
    topics = lda_client.get("/api/topics").json()
    assert len(topics["x"]) == 4 and sum(topics["prevalence"]) == pytest.approx(1, abs=1e-3)
    by_probability = lda_client.get("/api/topic/1?relevance=1").json()
    probabilities = by_probability["term_probability"]
    assert probabilities == sorted(probabilities, reverse=True)
    by_lift = lda_client.get("/api/topic/1?relevance=0").json()
    lifts = np.array(by_lift["term_probability"]) / np.array(by_lift["term_frequency"])
    assert np.all(np.diff(lifts) <= 1e-6 * lifts[:-1])
    shares = [d["share"] for d in by_probability["documents"]]
    assert shares == sorted(shares, reverse=True) and shares[0] > 0.25
    assert lda_client.get("/api/topic/9").status_code == 404
    assert lda_client.get("/api/topic/0?relevance=2").status_code == 422
    assert lda_client.post("/api/decode", json={"z": [0]}).status_code == 404


@pytest.fixture(scope="module")
def hmm_client(tmp_path_factory):
    return TestClient(create_app(hmm_run(tmp_path_factory.mktemp("hmm"))))


def test_hmm_sequence_states_and_a_states_rows(hmm_client):
    sequence = hmm_client.get("/api/sequence").json()
    assert len(sequence["states"]) == 299 and set(sequence["states"]) == {0, 1}
    posteriors = np.array(sequence["posteriors"])
    assert np.allclose(posteriors.sum(0), 1, atol=2e-3)
    state = hmm_client.get("/api/state/1").json()
    assert sum(state["transition"]) == pytest.approx(1, abs=1e-3)
    assert len(state["emission"]["means"]) == 2
    assert state["occupancy"] == sequence["states"].count(1)
    assert hmm_client.get("/api/state/2").status_code == 404


# -- the static page and the command ---------------------------------------------------------------
def test_static_page_holds_everything_it_needs(session, tmp_path):
    path = write_static_page(session, tmp_path / "explore.html")
    text = path.read_text(encoding="utf-8")
    assert "window.EXPLORE_STATIC" in text
    assert not re.search(r"<script[^>]+src=", text)  # nothing loaded from anywhere
    data = json.loads(re.search(r"window.EXPLORE_STATIC = (\{.*?\});</script>", text,
                                re.S).group(1).replace("<\\/", "</"))
    assert len(data["decode_grid"]["images"]) == 16 * 16
    assert data["answers"]["GET /api/info"]["n_points"] == N_POINTS
    with pytest.raises(ValueError, match=".html"):
        write_static_page(session, tmp_path / "explore.txt")


def test_cli_explore_refuses_a_bad_run_and_writes_a_static_page(vae_dir, tmp_path):
    from typer.testing import CliRunner

    from latentmodels.cli.app import app

    runner = CliRunner()
    bad = runner.invoke(app, ["explore", str(tmp_path / "missing")])
    assert bad.exit_code == 2 and "no such run directory" in bad.output
    out = tmp_path / "page.html"
    good = runner.invoke(app, ["explore", str(vae_dir), "--static", str(out)])
    assert good.exit_code == 0, good.output
    assert out.stat().st_size > 1_000_000
