"""Model verbs on every family: what they list works (sample on an HMM or an LDA), what
they do not serve is one line saying what to use instead; requests that cannot fit in
memory and odd option values are refused at once."""

from __future__ import annotations

import gzip
import json
import time

import numpy as np
import pytest

from latentmodels import VAE, datasets
from latentmodels.hmm import GaussianHMM
from latentmodels.lda.model import LDA
from latentmodels.lda.text import TextCorpus
from tests.cli_helpers import assert_bad_input, invoke

TEXTS = [
    "apples pears plums apples", "cars trucks wheels cars", "pears plums cherries",
    "wheels engines trucks", "apples cherries plums", "engines cars roads",
] * 4


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    X, _ = datasets.load_geyser()
    GaussianHMM(2, n_iter=100, random_state=0).fit(X).save(folder / "hmm.lm")
    corpus = TextCorpus.from_texts(TEXTS, stop_words=None)
    LDA(2, max_iter=5, random_state=0, n_jobs=1).fit(corpus).save(folder / "lda.lm")
    digits, _ = datasets.load_mnist()
    VAE(latent_dim=2, hidden_dims=(16,), epochs=1, verbose=0, random_state=0).fit(
        digits[:64]).save(folder / "vae.lm")
    return folder


def test_sample_on_an_hmm_writes_a_sequence_as_npy_or_csv(models, tmp_path):
    result = invoke("sample", models / "hmm.lm", "--out", tmp_path / "s.npy", "-n", 40)
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "s.npy").shape == (40, 2)
    result = invoke("sample", models / "hmm.lm", "--out", tmp_path / "s.csv", "-n", 5)
    assert result.exit_code == 0, result.output
    rows = (tmp_path / "s.csv").read_text().splitlines()
    assert rows[0] == "step,state,x0,x1" and len(rows) == 6
    assert {row.split(",")[1] for row in rows[1:]} <= {"0", "1"}
    assert_bad_input(invoke("sample", models / "hmm.lm", "--out", tmp_path / "s.png"),
                     ".npy or .csv")


def test_sample_on_an_lda_writes_documents_as_text_or_counts(models, tmp_path):
    result = invoke("sample", models / "lda.lm", "--out", tmp_path / "docs.txt", "-n", 3)
    assert result.exit_code == 0, result.output
    documents = (tmp_path / "docs.txt").read_text().splitlines()
    vocabulary = set(" ".join(TEXTS).split())
    assert len(documents) == 3 and all(set(d.split()) <= vocabulary for d in documents)
    result = invoke("sample", models / "lda.lm", "--out", tmp_path / "docs.npy", "-n", 4)
    assert result.exit_code == 0, result.output
    counts = np.load(tmp_path / "docs.npy", allow_pickle=False)
    assert counts.shape == (4, len(vocabulary)) and counts.dtype == np.int64
    assert counts.sum() > 0 and (counts >= 0).all()


@pytest.mark.parametrize(("family", "instead"), [("hmm", "decode"), ("lda", "transform")])
@pytest.mark.parametrize("verb", ["encode", "reconstruct", "interpolate"])
def test_verbs_for_arrays_say_what_to_use_for_hmms_and_ldas(models, tmp_path, family,
                                                          instead, verb):
    result = invoke(verb, models / f"{family}.lm", "--data", "mnist", "--out",
                    tmp_path / "x.npy")
    assert_bad_input(result, verb, f"latentmodels {instead}")


def test_interpolate_with_a_billion_steps_is_refused_at_once(models, tmp_path):
    started = time.perf_counter()
    result = invoke("interpolate", models / "vae.lm", "--data", "mnist", "--steps",
                    1_000_000_000, "--out", tmp_path / "i.npy")
    assert_bad_input(result, "--steps", "GiB")
    assert time.perf_counter() - started < 10
    assert not (tmp_path / "i.npy").exists()


def test_sample_into_a_missing_folder_creates_it(models, tmp_path):
    out = tmp_path / "new" / "deeper" / "s.npy"
    result = invoke("sample", models / "vae.lm", "--out", out, "-n", 3)
    assert result.exit_code == 0, result.output
    assert np.load(out).shape == (3, 28, 28)


def test_odd_option_values_are_one_line_errors(models, tmp_path):
    assert_bad_input(invoke("train", "lda", "--data", "newsgroups", "--max-df", "inf",
                            "--out", tmp_path / "l"), "--max-df", "inf")
    assert_bad_input(invoke("train", "lda", "--data", "newsgroups", "--min-df", "nan",
                            "--out", tmp_path / "l"), "--min-df")
    assert_bad_input(invoke("train", "vae", "--data", "digits", "--iwae-samples", -5,
                            "--out", tmp_path / "v"), "--iwae-samples")
    assert_bad_input(invoke("traverse", models / "vae.lm", "--data", "mnist", "--dims", 99,
                            "--out", tmp_path / "t.png"), "99")


def test_a_truncated_jsonl_gz_is_named_as_truncated(tmp_path):
    lines = [json.dumps({"text": f"apples pears plums number {i}"}) for i in range(300)]
    raw = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "texts.jsonl.gz"
    path.write_bytes(raw[: len(raw) // 2])
    assert_bad_input(invoke("train", "lda", "--data", path, "--topics", 2, "--out",
                            tmp_path / "l"), "truncated")


def test_out_naming_an_existing_file_where_a_folder_is_needed_is_one_line(models, tmp_path):
    existing = tmp_path / "notes.csv"
    existing.write_text("keep me\n")
    assert_bad_input(invoke("train", "vae", "--data", "digits", "--epochs", 1, "--out",
                            existing), "notes.csv is a file")
    assert_bad_input(invoke("sample", models / "vae.lm", "--out", existing / "s.npy"),
                     "notes.csv is a file")
    assert existing.read_text() == "keep me\n"
