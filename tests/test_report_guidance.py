"""The report interprets itself: each section says what to look for, and notes flag what is
off (a denoiser that never learned to denoise, a topic that is a repeated signature, a topic
of words that never meet, decoder output outside the data range)."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels import LDA, Autoencoder, DenoisingAutoencoder, TextCorpus
from latentmodels.metrics.topics import block_concentration
from latentmodels.plots import plot_reconstructions
from latentmodels.report import ReportContext, write_report
from latentmodels.report.sections.deep import reconstructions_section
from latentmodels.report.sections.lda import lda_section
from latentmodels.report.sections.tasks import denoise_section


def _signature_corpus() -> TextCorpus:
    """Forty posts on four themes; eight of them end in the same three-line signature."""
    rng = np.random.default_rng(0)
    themes = [["engine", "wheel", "brake", "tyre", "gear", "clutch"],
              ["goal", "match", "league", "coach", "season", "score"],
              ["orbit", "rocket", "launch", "moon", "satellite", "nasa"],
              ["disk", "drive", "memory", "card", "driver", "board"]]
    signature = "gordon banks skepticism chastity intellect surrender"
    texts = []
    for i in range(40):
        words = list(rng.choice(themes[i % 4], size=12))
        text = " ".join(words)
        if i % 5 == 0:
            text += " " + signature
        texts.append(text)
    return TextCorpus.from_texts(texts, stop_words=None)


def test_block_concentration_separates_a_repeated_block_from_a_theme():
    corpus = _signature_corpus()
    result = block_concentration(
        [["gordon", "banks", "skepticism", "chastity"], ["engine", "goal", "orbit", "disk"]],
        corpus)
    assert result["documents"] == [8, 0]
    assert result["share"][0] == pytest.approx(1.0)
    # words spread over many posts, each holding one of the four
    assert result["share"][1] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="not in the corpus vocabulary"):
        block_concentration([["nonword"]], corpus)


def test_topic_section_flags_boilerplate_and_negative_npmi_topics(tmp_path):
    corpus = _signature_corpus()
    lda = LDA(3, random_state=0).fit(corpus)
    summary = {"top_words": lda.top_words(10), "share": [0.4, 0.4, 0.2],
               "npmi": [0.78, 0.21, -0.27], "block_share": [0.9, 0.1, 0.05],
               "block_documents": [8, 1, 0]}
    ctx = ReportContext(tmp_path, lda, None, None, {}, {"topics": summary})
    page = lda_section(ctx).html
    assert "What to look for" in page
    assert "topic 0 rests on a block of text repeated" in page
    assert "90% of its top words" in page and "in 8 documents" in page
    assert "topic 2 has negative NPMI" in page
    assert "topic 1" not in page.split("<table>")[0]  # a sound topic is not flagged


def test_denoising_by_a_model_not_trained_to_denoise_is_flagged(mnist_small, tmp_path):
    X, _ = mnist_small
    kwargs = dict(latent_dim=4, hidden_dims=(32,), epochs=1, verbose=0, random_state=0)
    plain = Autoencoder(**kwargs).fit(X[:200])
    text = denoise_section(ReportContext(tmp_path, plain, X[200:260], None, {}, {})).html
    assert "this Autoencoder was not trained to denoise" in text
    dae = DenoisingAutoencoder(corruption="masking", noise_level=0.5, **kwargs).fit(X[:200])
    text = denoise_section(ReportContext(tmp_path, dae, X[200:260], None, {}, {})).html
    assert "not trained to denoise" not in text and "What to look for" in text


class _Overshooting:
    """Decodes to 3x - 1: a reconstruction far outside the data's [0, 1]."""

    def transform(self, X):
        return np.asarray(X, dtype=np.float32).reshape(len(X), -1)

    def inverse_transform(self, Z):
        return (3.0 * np.asarray(Z) - 1.0).reshape(len(Z), 8, 8)

    def reconstruct(self, X):
        return self.inverse_transform(self.transform(X))


def test_reconstructions_keep_the_originals_grey_scale_and_flag_clipping(tmp_path):
    X = np.zeros((4, 8, 8), dtype=np.float32)
    X[:, 2:6, 2:6] = 1.0  # white squares on black
    fig = plot_reconstructions(_Overshooting(), X, n=4)
    originals = fig.axes[0].images[0].get_array()
    # white stays white and black stays black (a range stretched to [-1, 2] made them grey)
    assert float(np.max(originals)) == 1.0 and float(np.min(originals)) == 0.0
    ctx = ReportContext(tmp_path, _Overshooting(), X, None, {}, {})
    section = reconstructions_section(ctx)
    assert "100.0 % of the reconstructed pixel values fall outside" in section.html


def test_sections_open_with_what_to_look_for(mnist_small, tmp_path):
    X, y = mnist_small
    ae = Autoencoder(latent_dim=4, hidden_dims=(32,), epochs=2, verbose=0, random_state=0)
    page = write_report(tmp_path, ae.fit(X[:300]), X[300:400], y[300:400],
                        tsne=False).read_text(encoding="utf-8")
    for anchor in ("training", "reconstructions", "samples", "interpolations", "latent-map",
                   "traversal", "neighbors", "anomaly", "denoise", "probe"):
        part = page.split(f'<section id="{anchor}">')[1].split("</section>")[0]
        assert '<p class="look"><b>What to look for:</b>' in part, anchor
