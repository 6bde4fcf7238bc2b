"""`latentmodels train lda`, `topics`, `transform`, the report's topic section and the demo's
LDA part: files of the right shape, numbers that make sense, one red line for bad input."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest

from latentmodels import report
from latentmodels.cli.demo import DEMO_LDA_TITLE, _demo_lda
from latentmodels.datasets.texts import load_texts
from latentmodels.lda.text import TextCorpus
from tests.cli_helpers import assert_bad_input, invoke

N_DOCS = 400
TOPICS = 5


def unigram_perplexity(run_dir):
    """Perplexity of the training word frequencies (add-one) on the tokens the run's
    document-completion perplexity evaluates."""
    from latentmodels.metrics.topics import split_documents
    from latentmodels.rundir import load_run_corpora

    model = report.load_model(run_dir / "model.lm")
    train, test, _ = load_run_corpora(report.read_run(run_dir), model.vocabulary_)
    counts = test.counts[np.asarray(test.counts.sum(axis=1)).ravel() >= 2]
    _, evaluated = split_documents(counts, 0.5, random_state=0)
    freq = np.asarray(train.counts.sum(axis=0)).ravel() + 1.0
    log_p = np.log(freq / freq.sum())
    tokens = np.asarray(evaluated.sum(axis=0)).ravel()
    return float(np.exp(-(tokens * log_p).sum() / tokens.sum()))


def embedded_pngs(text):
    return re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)


@pytest.fixture(scope="module")
def lda_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "lda"
    result = invoke("train", "lda", "--data", "newsgroups", "--topics", TOPICS, "--limit",
                    N_DOCS, "--threads", 1, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_train_lda_writes_model_run_and_a_report_with_topic_figures(lda_run):
    info = json.loads((lda_run / "run.json").read_text())
    metrics = info["metrics"]
    assert info["data"]["kind"] == "text" and info["data"]["source"] == "newsgroups"
    assert metrics["n_train_docs"] + metrics["n_test_docs"] == N_DOCS
    assert metrics["n_topics"] == TOPICS
    # Topics must beat word frequencies alone on the same held-out tokens.
    assert 1 < metrics["perplexity"] < 0.95 * unigram_perplexity(lda_run)
    assert -1 <= metrics["mean_npmi"] <= 1 and 0 < metrics["topic_diversity"] <= 1
    topics = info["topics"]
    assert len(topics["top_words"]) == TOPICS and abs(sum(topics["share"]) - 1) < 1e-6
    text = (lda_run / "report.html").read_text(encoding="utf-8")
    assert '<section id="topics">' in text
    assert len(embedded_pngs(text.split('<section id="topics">')[1])) == 4
    for name in ("topic_words", "topic_coherence", "doc_topics", "label_topics"):
        assert (lda_run / f"{name}.png").is_file()
    # Image-model sections do not apply to documents.
    assert '<section id="samples">' not in text


def test_report_command_rebuilds_the_topic_section_from_run_json(lda_run):
    before = (lda_run / "report.html").read_text(encoding="utf-8")
    (lda_run / "report.html").unlink()
    result = invoke("report", lda_run)
    assert result.exit_code == 0, result.output
    after = (lda_run / "report.html").read_text(encoding="utf-8")
    table = before.split('<section id="topics">')[1].split("</table>")[0]
    assert table in after  # same topics, same shares and coherence


def test_topics_prints_and_writes_the_top_words(lda_run, tmp_path):
    result = invoke("topics", lda_run, "-n", 6, "--out", tmp_path / "topics.csv")
    assert result.exit_code == 0, result.output
    model = report.load_model(lda_run / "model.lm")
    top = model.top_words(6)
    assert all(word in result.stdout for word in top[0][:3])
    with (tmp_path / "topics.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6 * TOPICS
    first = [float(r["probability"]) for r in rows if r["topic"] == "0"]
    assert first == sorted(first, reverse=True)
    assert [r["word"] for r in rows if r["topic"] == "0"] == top[0]
    png = invoke("topics", lda_run, "--out", tmp_path / "topics.png")
    assert png.exit_code == 0 and (tmp_path / "topics.png").read_bytes()[:4] == b"\x89PNG"


def test_transform_writes_proportions_equal_to_the_model_and_counts_unknown_words(
        lda_run, tmp_path):
    docs = tmp_path / "new.jsonl"
    posts = ["the space shuttle launch from nasa was delayed", "zzqx wrrbl",
             "god and the bible"]
    docs.write_text("".join(json.dumps({"body": p}) + "\n" for p in posts), encoding="utf-8")
    out = tmp_path / "theta.npy"
    result = invoke("transform", lda_run, "--data", docs, "--text-field", "body", "--out", out)
    assert result.exit_code == 0, result.output
    assert "not in the model's vocabulary" in result.stdout
    theta = np.load(out, allow_pickle=False)
    model = report.load_model(lda_run / "model.lm")
    expected = model.transform(TextCorpus.from_texts(posts, vocabulary=model.vocabulary_))
    np.testing.assert_allclose(theta, expected)
    assert theta.shape == (3, TOPICS)
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, atol=1e-9)
    # The document of unknown words gets the prior's proportions.
    prior = model.doc_topic_prior_ / model.doc_topic_prior_.sum()
    np.testing.assert_allclose(theta[1], prior, atol=1e-9)
    csv_out = tmp_path / "theta.csv"
    assert invoke("transform", lda_run, "--data", docs, "--text-field", "body", "--out",
                  csv_out).exit_code == 0
    assert csv_out.read_text().splitlines()[0].startswith("document,topic_0")


def test_bad_input_is_one_red_line_and_exit_code_2(lda_run, tmp_path):
    out = tmp_path / "x"
    base = ["train", "lda", "--out", out, "--limit", 50]
    assert_bad_input(invoke(*base, "--data", tmp_path / "missing.jsonl"), "missing.jsonl")
    wrong = tmp_path / "posts.jsonl"
    wrong.write_text('{"body": "hello there"}\n', encoding="utf-8")
    assert_bad_input(invoke(*base, "--data", wrong), "--text-field", "body")
    assert_bad_input(invoke(*base, "--data", tmp_path / "data.csv"), "--data")
    assert_bad_input(invoke(*base, "--data", "newsgroups", "--topics", 0), "--topics")
    assert_bad_input(invoke(*base, "--data", "newsgroups", "--min-df", 1000), "--min-df")
    assert_bad_input(invoke(*base, "--data", "newsgroups", "--test-fraction", 1.5),
                     "--test-fraction")
    assert not (out / "model.lm").exists()
    assert_bad_input(invoke("topics", lda_run, "-n", 0), "-n")
    assert_bad_input(invoke("topics", lda_run, "--out", tmp_path / "t.txt"), "--out")
    assert_bad_input(invoke("transform", lda_run, "--data", wrong, "--out", tmp_path / "t.txt"),
                     "--out")


def test_topics_refuses_a_model_that_is_not_a_topic_model(tmp_path, mnist):
    from latentmodels import Autoencoder

    path = tmp_path / "ae.lm"
    Autoencoder(latent_dim=2, hidden_dims=(8,), epochs=1, verbose=0).fit(mnist[0][:32]).save(path)
    assert_bad_input(invoke("topics", path), "not a topic model")
    assert_bad_input(invoke("transform", path, "--data", "newsgroups", "--out",
                            tmp_path / "t.npy"), "not a topic model")


def test_bundled_newsgroups_sample_loads_offline():
    data = load_texts("newsgroups")
    assert len(data.texts) == 2000 and len(set(data.labels)) == 20
    assert all(text.strip() for text in data.texts)


def test_demo_lda_part_and_its_report_section(tmp_path):
    info = _demo_lda(tmp_path / "lda", threads=1)
    metrics = info["metrics"]
    assert info["data"]["source"] == "newsgroups"  # bundled: no network, no ../shared
    assert metrics["n_topics"] == 20
    assert metrics["perplexity"] < 0.9 * unigram_perplexity(tmp_path / "lda")
    report.write_run(tmp_path, {"metrics": {}, "lda_run": "lda", "lda_title": DEMO_LDA_TITLE})
    from latentmodels.report.sections.lda import lda_section

    # The model alone, without documents: its topics, nothing that needs documents.
    alone = report.write_report(tmp_path, report.load_model(tmp_path / "lda" / "model.lm"),
                                sections=[lda_section]).read_text(encoding="utf-8")
    assert DEMO_LDA_TITLE not in alone and len(embedded_pngs(alone)) == 1
    vae_dir = tmp_path / "main"
    vae_dir.mkdir()
    (vae_dir / "lda").symlink_to(tmp_path / "lda", target_is_directory=True)
    report.write_run(vae_dir, {"metrics": {}, "lda_run": "lda", "lda_title": DEMO_LDA_TITLE})
    from latentmodels import Autoencoder

    ae = Autoencoder(latent_dim=2, hidden_dims=(8,), epochs=1, verbose=0)
    ae.fit(np.random.default_rng(0).random((32, 6)).astype(np.float32))
    text = report.write_report(vae_dir, ae, sections=[lda_section]).read_text(encoding="utf-8")
    assert '<section id="topics">' in text and DEMO_LDA_TITLE in text
    assert len(embedded_pngs(text)) == 4 and (vae_dir / "lda_label_topics.png").is_file()


@pytest.mark.parametrize("command", [["train", "lda"], ["train", "vae"], ["train", "hmm"],
                                     ["topics"], ["transform"]])
def test_topic_commands_have_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0 and "Usage" in result.output
