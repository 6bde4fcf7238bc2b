"""
Categorical HMM on English text: vowels and consonants
======================================================

A two-state hidden Markov model sees nothing but a stream of letters from the bundled
newsgroup posts, one symbol per step, with no idea what a vowel is. Maximum likelihood
splits the alphabet anyway: one state emits the vowels (and the space between words),
the other the consonants, and the chain alternates between them. This is the
classic demonstration of what an HMM's hidden state can discover.

EM from a symmetric start stays stuck at the symmetric answer, so the emission
probabilities start from the letter frequencies with a random tilt per state
(``init_params=""`` keeps them). 20,000 letters and 150 iterations take a few seconds;
the split is the same on the whole corpus.
"""

import re

import matplotlib.pyplot as plt
import numpy as np

from latentmodels import CategoricalHMM
from latentmodels.datasets.texts import load_texts

posts = load_texts("newsgroups")
letters_only = " ".join(re.sub(r"[^a-z]+", " ", text.lower()) for text in posts.texts[:300])
stream = re.sub(" +", " ", letters_only)[:20000]
alphabet = " abcdefghijklmnopqrstuvwxyz"
X = np.array([alphabet.index(c) for c in stream])[:, None]  # one symbol per row

rng = np.random.default_rng(1)
frequencies = np.bincount(X[:, 0], minlength=len(alphabet)) / len(X)
tilted = frequencies * rng.uniform(0.5, 1.5, size=(2, len(alphabet)))
hmm = CategoricalHMM(n_components=2, n_iter=150, tol=1e-4, init_params="", random_state=0)
hmm.startprob_ = np.full(2, 0.5)
hmm.transmat_ = np.full((2, 2), 0.5)
hmm.emissionprob_ = tilted / tilted.sum(axis=1, keepdims=True)
hmm.fit(X)

vowel_state = int(np.argmax(hmm.emissionprob_[:, alphabet.index("e")]))
print("log-likelihood per letter:", round(hmm.score(X) / len(X), 3))
print("transition matrix:\n", hmm.transmat_.round(2))
for state in range(2):
    top = np.argsort(-hmm.emissionprob_[state])[:10]
    print(f"state {state}:", " ".join(alphabet[i].replace(" ", "_") for i in top))

# %%
# Each letter's probability under the two states: ``a e i o u`` and the space belong to
# one state, the consonants to the other. ``h`` leans to the vowel state: it mostly follows
# a consonant (*th*, *sh*, *ch*), which is where the vowel state usually comes.
fig, ax = plt.subplots(figsize=(9, 3.2))
positions = np.arange(len(alphabet))
for offset, state in ((-0.2, vowel_state), (0.2, 1 - vowel_state)):
    label = "vowel state" if state == vowel_state else "consonant state"
    ax.bar(positions + offset, hmm.emissionprob_[state], width=0.4, label=label)
ax.set_xticks(positions, ["_"] + list(alphabet[1:]))
ax.set_ylabel("emission probability")
ax.legend()
fig.tight_layout()

# %%
# The decoded states of the first characters: the chain alternates as words do.
states = hmm.predict(X[:60])
print(stream[:60])
print("".join("v" if s == vowel_state else "c" for s in states))
