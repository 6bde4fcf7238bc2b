"""
Gaussian HMM on Old Faithful: states chosen by BIC
==================================================

Fit hidden Markov models with 1 to 4 states to the waiting times and durations of 299
geyser eruptions, keep the one with the lowest BIC, and colour each eruption by its
decoded (Viterbi) state.
"""

import matplotlib.pyplot as plt

from latentmodels import GaussianHMM, datasets, select_n_states
from latentmodels.plots.hmm import plot_state_scatter, plot_transmat

X, columns = datasets.load_geyser()
template = GaussianHMM(covariance_type="full", n_iter=100, random_state=0)
hmm, bic = select_n_states(template, X, n_states=range(1, 5))
states = hmm.predict(X)
print("BIC by number of states:", {k: round(v, 1) for k, v in bic.items()})
print("chosen:", hmm.n_components, "states; log-likelihood", round(hmm.score(X), 1))

# %%
# Each eruption in the (waiting, duration) plane, coloured by state, and the transition
# matrix: short eruptions are followed by long waits.
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
plot_state_scatter(X, states, names=columns, ax=left)
plot_transmat(hmm, ax=right)
fig.tight_layout()
