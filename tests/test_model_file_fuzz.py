"""A saved deep model or HMM is never trusted: every mutation of its file (header fields,
tensor shapes, dtypes and offsets, flipped bytes, truncations) gives a clean error or the
very same model — never a crash, a hang, a huge allocation or a different answer. Edits
whose digest was forged to match must then be caught by the structural checks, or give a
consistent model that works."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from latentmodels import (
    GAN,
    VAE,
    Autoencoder,
    ConditionalGAN,
    ConditionalVAE,
    DebiasingVAE,
    DenoisingAutoencoder,
)
from latentmodels._internal.io import ModelFileError
from latentmodels.base import LatentModel
from latentmodels.hmm.emissions import available
from tests.model_files import deadline, forge_digest, join, mutated_file, split

N_CASES = 36
TINY = dict(latent_dim=2, hidden_dims=(8,), epochs=2, batch_size=16, verbose=0,
            random_state=0)
GAN_TINY = dict(latent_dim=2, hidden_dims=(8,), epochs=2, batch_size=16, verbose=0,
                random_state=0)


def _images(n=48, d=6, seed=0):
    return np.random.default_rng(seed).random((n, d)).astype(np.float32)


def _labels(n=48):
    return np.arange(n) % 2


DEEP = {
    "Autoencoder": lambda: Autoencoder(**TINY).fit(_images()),
    "DenoisingAutoencoder": lambda: DenoisingAutoencoder(**TINY).fit(_images()),
    "VAE": lambda: VAE(**TINY).fit(_images()),
    "ConditionalVAE": lambda: ConditionalVAE(**TINY).fit(_images(), _labels()),
    "DebiasingVAE": lambda: DebiasingVAE(**TINY).fit(_images(), _labels()),
    "GAN": lambda: GAN(**GAN_TINY).fit(_images()),
    "ConditionalGAN": lambda: ConditionalGAN(**GAN_TINY).fit(_images(), _labels()),
}


def _hmm_data(kind: str) -> np.ndarray:
    rng = np.random.default_rng(0)
    if kind == "real":  # positive, as some real-valued emissions (waiting times) need
        return np.abs(np.r_[rng.normal(1, 0.3, (20, 2)), rng.normal(5, 0.5, (20, 2))])
    if kind == "counts":  # fixed totals suit Poisson and multinomial counts alike
        return np.r_[rng.multinomial(6, [0.7, 0.2, 0.1], 20),
                     rng.multinomial(6, [0.1, 0.2, 0.7], 20)]
    return np.r_[rng.integers(0, 2, (20, 1)), rng.integers(2, 4, (20, 1))]


HMMS = {spec.estimator.__name__: spec for spec in available().values()}
CLASSES = sorted(DEEP) + sorted(HMMS)


def _fit(name: str):
    if name in DEEP:
        return DEEP[name]()
    spec = HMMS[name]
    return spec.make(n_components=2, n_iter=5, random_state=0).fit(_hmm_data(spec.data))


def _probe(model):
    """Data to query the model with, and the labels a conditional model needs."""
    if name_of(model) in HMMS:
        return _hmm_data(HMMS[name_of(model)].data)[:7], None
    conditional = isinstance(model, (ConditionalVAE, ConditionalGAN))
    return _images(5, seed=1), (_labels(5) if conditional else None)


def name_of(model) -> str:
    return type(model).__name__


def _answers(model) -> list[np.ndarray]:
    """What the model says about a probe: its scores, latent codes and samples."""
    X, y = _probe(model)
    if name_of(model) in HMMS:
        return [np.asarray(model.score_sequences(X)), model.predict_proba(X),
                np.asarray(model.sample(4, random_state=0)[0])]
    with_y = (X, y) if y is not None else (X,)
    answers = [model.sample(3, random_state=0)]
    if isinstance(model, GAN):
        return [*answers, model.score_samples(*with_y)]
    return [*answers, model.transform(*with_y), model.score_samples(*with_y)]


def _state(model) -> dict[str, np.ndarray]:
    if name_of(model) in HMMS:
        return {k: np.asarray(getattr(model, k)) for k in
                ("startprob_", "transmat_", *model._emission_names())}
    return {k: v.numpy() for k, v in model.module_.state_dict().items()}


def same_model(a, b) -> bool:
    sa, sb = _state(a), _state(b)
    return (
        a.get_params() == b.get_params()
        and sa.keys() == sb.keys()
        and all(np.array_equal(sa[k], sb[k]) for k in sa)
        and all(np.array_equal(x, y) for x, y in zip(_answers(a), _answers(b), strict=True))
    )


@pytest.fixture(scope="module", params=CLASSES)
def saved(request, tmp_path_factory):
    model = _fit(request.param)
    path = tmp_path_factory.mktemp("fuzz") / "model.lm"
    model.save(path)
    _answers(model)  # compile every kernel the answers use now, not under a case's deadline
    return model, path.read_bytes()


ODD_VALUES = [
    -1, 0, 1, 2, 3, 7, 10**18, 2**64, -(10**18), 0.5, 1e308, -1e-300, float("nan"),
    float("inf"), None, True, False, "", "x", "cuda", "bernoulli", [], [0], [5000, 5000],
    [1.0, -1.0], {}, ["a", "a"], list(range(5)), {"loss": 1.0},
]


def test_fuzzed_files_load_identically_or_fail_cleanly(saved, tmp_path):
    original, data = saved
    rng = np.random.default_rng(sum(name_of(original).encode()))
    outcomes = {"refused": 0, "identical": 0, "forged-valid": 0}
    for case in range(N_CASES):
        blob, forged = mutated_file(data, rng, ODD_VALUES)
        path = tmp_path / f"case{case}.lm"
        path.write_bytes(blob)
        with deadline(20):
            try:
                loaded = LatentModel.load(path)
            except ModelFileError as exc:
                assert str(exc), f"case {case}: an error without a message"
                outcomes["refused"] += 1
                continue
            if same_model(loaded, original):
                outcomes["identical"] += 1
                continue
            # Only a forger (who recomputes the digest) gets a different model through,
            # and then a consistent one that answers without crashing.
            assert forged, f"case {case}: a damaged file loaded as a different model"
            outcomes["forged-valid"] += 1
            for answer in _answers(loaded):
                assert np.all(np.isfinite(np.asarray(answer, dtype=float))), case
    assert outcomes["refused"] >= N_CASES // 2, outcomes


def _forged(data: bytes, edit) -> bytes:
    header, document, body = split(data)
    edit(header, document)
    forge_digest(header, document, body)
    return join(header, document, body)


@pytest.mark.parametrize("name", sorted(DEEP))
def test_a_small_file_claiming_a_huge_input_is_refused_at_once(name, tmp_path):
    model = DEEP[name]()
    data = (tmp_path / "m.lm").read_bytes() if model.save(tmp_path / "m.lm") else b""
    path = tmp_path / "huge.lm"
    huge = [5000, 5000]
    path.write_bytes(_forged(data, lambda h, d: d["attributes"].update(input_shape_=huge)))
    started = time.perf_counter()
    with pytest.raises(ModelFileError, match="5000"):  # the layer or array that disagrees
        LatentModel.load(path)
    assert time.perf_counter() - started < 2.0
    assert len(data) < 64_000


def test_nan_weights_an_unknown_likelihood_and_a_lying_n_features_are_refused(tmp_path):
    model = DEEP["VAE"]()
    path = tmp_path / "vae.lm"
    model.save(path)
    data = path.read_bytes()

    def likelihood(h, d):
        d["params"]["likelihood"] = "poisson"

    path.write_bytes(_forged(data, likelihood))
    with pytest.raises(ModelFileError, match="likelihood"):
        VAE.load(path)

    def latent(h, d):
        d["params"]["latent_dim"] = 3

    path.write_bytes(_forged(data, latent))
    with pytest.raises(ModelFileError, match="module"):
        VAE.load(path)

    header, document, body = split(data)
    name = next(k for k in sorted(header) if k.startswith("module.") and "weight" in k)
    start, _ = header[name]["data_offsets"]
    raw = bytearray(body)
    raw[start : start + 4] = np.float32(np.nan).tobytes()
    forge_digest(header, document, bytes(raw))
    path.write_bytes(join(header, document, bytes(raw)))
    with pytest.raises(ModelFileError, match="NaN"):
        VAE.load(path)


@pytest.mark.parametrize("name", sorted(HMMS))
def test_hmm_arrays_that_disagree_with_n_components_are_refused(name, tmp_path):
    model = _fit(name)
    path = tmp_path / "hmm.lm"
    model.save(path)
    data = path.read_bytes()

    def more_states(h, d):
        d["params"]["n_components"] = 3

    path.write_bytes(_forged(data, more_states))
    with pytest.raises(ModelFileError, match="startprob_|params|n_components"):
        LatentModel.load(path)


def test_hmm_probabilities_that_do_not_sum_to_one_are_refused(tmp_path):
    from latentmodels.hmm import GaussianHMM

    model = GaussianHMM(2, n_iter=3, random_state=0).fit(_hmm_data("real"))
    model.transmat_ = model.transmat_ * 1.5
    tensors, attributes = model._get_state()
    from latentmodels._internal.io import write_tensor_file
    from latentmodels.base import jsonable_params

    write_tensor_file(tmp_path / "bad.lm", tensors, {
        "class": "GaussianHMM", "params": jsonable_params(model.get_params()),
        "attributes": attributes})
    with pytest.raises(ModelFileError, match="transmat_"):
        GaussianHMM.load(tmp_path / "bad.lm")


@pytest.mark.slow
def test_a_model_of_a_plugin_class_names_the_module_to_import(tmp_path):
    import subprocess
    import sys
    import textwrap

    plugin = tmp_path / "my_emission_plugin.py"
    plugin.write_text(textwrap.dedent("""
        from latentmodels.hmm import PoissonHMM
        from latentmodels.hmm.emissions import register_emission

        @register_emission("my_counts")
        class MyCountsHMM(PoissonHMM):
            '''Poisson counts, under another name.'''
    """))
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        import my_emission_plugin
        model = my_emission_plugin.MyCountsHMM(2, n_iter=2, random_state=0)
        model.fit(np.array([[0], [1], [5], [6], [0], [7]]))
        model.save({str(tmp_path / 'plugin.lm')!r})
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=600)
    saved_path = str(tmp_path / "plugin.lm")
    # A fresh process that never imported the plug-in: told what to import; then, with the
    # plug-in named in the environment, the very same call loads the model.
    both = textwrap.dedent(f"""
        import os
        import latentmodels
        try:
            latentmodels.load({saved_path!r})
        except ValueError as error:  # a ModelFileError
            print("REFUSED", error)
        os.environ["LATENTMODELS_HMM_EMISSIONS"] = "my_emission_plugin"
        model = latentmodels.load({saved_path!r})
        print("LOADED", type(model).__name__, model.n_components)
    """)
    environment = {**os.environ, "PYTHONPATH": f"{tmp_path}:{os.environ.get('PYTHONPATH', '')}"}
    run = subprocess.run([sys.executable, "-c", both], capture_output=True, text=True,
                         timeout=600, env=environment)
    refused, loaded = run.stdout.strip().splitlines()
    assert refused.startswith("REFUSED") and "MyCountsHMM" in refused, run.stderr
    assert "import my_emission_plugin" in refused
    assert loaded.split() == ["LOADED", "MyCountsHMM", "2"], run.stderr


def test_the_checks_are_quick_on_a_valid_file(tmp_path):
    model = DEEP["VAE"]()
    path = tmp_path / "vae.lm"
    model.save(path)
    started = time.perf_counter()
    for _ in range(5):
        VAE.load(path)
    assert (time.perf_counter() - started) / 5 < 0.5
