"""
PCA and factor control: making digits lean
===========================================

Fit PCA to 2,000 digits, find the direction among the codes along which a digit's slant
grows, and edit held-out digits along it: the digit stays, its slant changes.
``tasks.factors.edit_effect`` measures how much of the change is the asked-for factor.
"""

from latentmodels import PCA, datasets
from latentmodels.plots import plot_image_grid
from latentmodels.tasks.debias import slant
from latentmodels.tasks.factors import attribute_direction, edit

X, y = datasets.load_mnist()
pca = PCA(n_components=16).fit(X[:2000])
direction = attribute_direction(pca.transform(X[:2000]), slant(X[:2000]))
amounts = [-2, -1, 0, 1, 2]
strip = edit(pca, X[2000:2006], direction, amounts)      # (6 digits, 5 amounts, 28, 28)
print("slant before and after the largest edits:",
      slant(strip[:, 0]).mean().round(2), slant(strip[:, -1]).mean().round(2))

# %%
# One row per digit, left to right from leaning left to leaning right:
edits = plot_image_grid(strip.reshape(-1, 28, 28), ncols=len(amounts),
                        title="slant edits, amounts -2 to 2")
