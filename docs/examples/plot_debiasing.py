"""
Debiasing a classifier with a DB-VAE: re-weighting the rare sevens
==================================================================

The task: "is this digit a 7?". The training set is biased on purpose: right-leaning sevens
(the more slanted half, by :func:`~latentmodels.tasks.debias.slant`) are cut down to 5%
of their number, so a classifier rarely sees one. A :class:`~latentmodels.DebiasingVAE`
learns the classifier and a VAE together; before every epoch it estimates how common each
seven's latent code is and draws rare ones more often. A plain model (``debias=False``,
otherwise identical) is the control. Both are scored on an untouched test split, per group.

Three epochs on 2,000 digits keep this to seconds, so the gap between the groups is noisy
here; ``benchmarks/debias_mnist.py`` runs the protocol on all the data over several seeds.
"""

import matplotlib.pyplot as plt
import numpy as np

from latentmodels import datasets
from latentmodels.tasks.debias import debias_experiment, slant

X, y = datasets.load_mnist()
result = debias_experiment(X[:2000], y[:2000], 7, rule="slant", keep_fraction=0.05,
                           epochs=3, latent_dim=8, verbose=0)
for key in ("plain", "debiased"):
    print(f"{key:>8}:", {group: round(value, 3) for group, value in result[key].items()})

# %%
# Left: test accuracy on each group of sevens (and on all test digits). Right: the
# probability with which the DB-VAE draws each training seven, against its slant; the few
# right-leaning sevens kept (orange) are the ones it up-weights.
sevens = result["train_index"][result["train_target"] == 1]
weights = result["debiased_model"].sampling_weights(X[result["train_index"]],
                                                    result["train_target"])
seven_weights = weights[result["train_target"] == 1]
rare = result["train_rare"][result["train_target"] == 1]

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
groups = ["overall", *result["groups"]]
positions = np.arange(len(groups))
for offset, key in ((-0.2, "plain"), (0.2, "debiased")):
    left.bar(positions + offset, [result[key][g] for g in groups], width=0.4, label=key)
left.set_xticks(positions, groups)
left.set_ylim(0, 1)
left.set_ylabel("test accuracy")
left.legend(loc="lower left")
right.scatter(slant(X[sevens][~rare]), seven_weights[~rare], s=8, label="upright (kept)")
right.scatter(slant(X[sevens][rare]), seven_weights[rare], s=30, label="right-leaning (5%)")
right.set_xlabel("slant")
right.set_ylabel("sampling probability")
right.legend()
fig.tight_layout()
