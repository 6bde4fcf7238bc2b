"""
Factor control: making digits lean, and erasing slant from the codes
====================================================================

Fit PCA to 2,000 digits, find the direction among the codes along which a digit's slant
grows, and edit held-out digits along it: the digit stays, its slant changes.
:func:`~latentmodels.tasks.factors.edit_effect` measures how much of the change is the
asked-for factor, and how often a digit classifier still reads the same digit. Then
:class:`~latentmodels.tasks.factors.ConceptEraser` removes slant from the codes: a linear
probe that read it well before reads nothing after, while the digit stays readable.
Every model with ``transform`` and ``inverse_transform`` works here (a VAE gives smoother
edits; PCA keeps this to a second).
"""

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge

from latentmodels import PCA, datasets
from latentmodels.plots import plot_image_grid
from latentmodels.tasks.debias import slant
from latentmodels.tasks.factors import ConceptEraser, attribute_direction, edit, edit_effect

X, y = datasets.load_mnist()
train, test = slice(0, 2000), slice(2000, 3000)
pca = PCA(n_components=16).fit(X[train])
codes = pca.transform(X[train])
direction = attribute_direction(codes, slant(X[train]))
amounts = [-2, -1, 0, 1, 2]
strip = edit(pca, X[2000:2006], direction, amounts)      # (6 digits, 5 amounts, 28, 28)

reader = LogisticRegression(max_iter=300).fit(X[train].reshape(2000, -1), y[train])
effect = edit_effect(pca, X[2000:2100], direction, amounts, slant,
                     keep=y[2000:2100], classifier=reader)
print("mean slant per amount:", np.round(effect["factor_mean"], 2))
print("rank correlation of amount and slant:", round(effect["rank_correlation"], 2))
print("share still read as the same digit:", np.round(effect["kept"], 2))

# %%
# One row per digit, left to right from leaning left to leaning right:
edits = plot_image_grid(strip.reshape(-1, 28, 28), ncols=len(amounts),
                        title="slant edits, amounts -2 to 2")

# %%
# Erasure. A ridge probe predicts each held-out digit's slant from its code (R^2), and a
# logistic probe its class (accuracy), before and after LEACE erasure of slant. The
# eraser is fitted on training codes only.
eraser = ConceptEraser().fit(codes, slant(X[train]))
test_codes = pca.transform(X[test])
for name, train_codes, held_out in (("codes", codes, test_codes),
                                    ("erased", eraser.transform(codes),
                                     eraser.transform(test_codes))):
    slant_r2 = Ridge().fit(train_codes, slant(X[train])).score(held_out, slant(X[test]))
    digit_accuracy = (LogisticRegression(max_iter=500).fit(train_codes, y[train])
                      .score(held_out, y[test]))
    print(f"{name:>6}: slant R^2 {slant_r2:.2f}, digit accuracy {digit_accuracy:.2f}")
