"""
Fitting your own file: a CSV, from Python and from the command line
===================================================================

Any table of numbers works: one row per sample, one column per feature, a header row or
none. This example writes two small CSV files to a temporary folder, as your own data would
be, and fits them twice, once with the Python API and once with the ``latentmodels``
command, which writes a run directory (``model.lm``, ``run.json``) that
:func:`latentmodels.load` reads back.

* ``digits.csv``: the 8x8 digits that ship with scikit-learn, 64 pixel columns plus a
  ``label`` column, for PCA (any model of the contract takes the same table: ``VAE`` with
  ``likelihood="gaussian"`` for unscaled columns).
* ``eruptions.csv``: a time series (the bundled Old Faithful waiting times and durations),
  for a Gaussian HMM.
"""

import csv
import shutil
import tempfile
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

import latentmodels
from latentmodels import PCA, GaussianHMM, datasets
from latentmodels.cli.app import app
from latentmodels.datasets.series import load_series
from latentmodels.plots import as_images, display_range, grid_figure

folder = Path(tempfile.mkdtemp())
images, labels = datasets.load_digits(flatten=True)
with open(folder / "digits.csv", "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow([f"px{i}" for i in range(64)] + ["label"])
    writer.writerows(np.column_stack([images, labels]).tolist())
waiting_duration, columns = datasets.load_geyser()
with open(folder / "eruptions.csv", "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(columns)
    writer.writerows(waiting_duration.tolist())
print("wrote", sorted(p.name for p in folder.iterdir()), "with columns", columns)

# %%
# Python: ``datasets.load_dataset`` reads the table (``label_column`` splits off the
# labels), and the model fits the rows.
X, y = datasets.load_dataset(folder / "digits.csv", label_column="label")
pca = PCA(n_components=8).fit(X)
print("table", X.shape, "labels", np.unique(y).tolist(), "-> codes", pca.transform(X).shape)

# %%
# Command line: the same file (here without the label column, which the command would
# read as one more feature). In a shell this is
# ``latentmodels train pca --data pixels.csv --components 8 --out run``; here typer's test
# runner calls the same command in this process.
np.savetxt(folder / "pixels.csv", X, delimiter=",", fmt="%g")
runner = CliRunner()
result = runner.invoke(app, ["train", "pca", "--data", str(folder / "pixels.csv"),
                             "--components", "8", "--out", str(folder / "run"), "--no-report"])
print(result.output[-600:])
assert result.exit_code == 0, result.output
from_cli = latentmodels.load(folder / "run" / "model.lm")
print("run directory:", sorted(p.name for p in (folder / "run").iterdir()))

# %%
# Both models decode: first row the digits, then each model's reconstruction from its
# eight codes (the CLI's model was fitted on 80% of the rows, its default
# ``--test-fraction 0.2``).
rows = [("digits", X[:10]), ("Python PCA", pca.inverse_transform(pca.transform(X[:10]))),
        ("CLI PCA", from_cli.inverse_transform(from_cli.transform(X[:10])))]
rows = [(label, as_images(block, image_shape=(8, 8))) for label, block in rows]
reconstructions = grid_figure(rows, 10, *display_range(*(b for _, b in rows)),
                              "your CSV, fitted twice")

# %%
# A series: ``load_series`` reads chosen columns of a CSV in row order; the CLI's
# ``train hmm`` does the same and picks the number of states by BIC.
series = load_series(folder / "eruptions.csv", ["waiting", "duration"])
hmm = GaussianHMM(n_components=2, covariance_type="full", n_iter=100,
                  random_state=0).fit(series.X)
print("state means (waiting, duration):\n", hmm.means_.round(1))
result = runner.invoke(app, ["train", "hmm", "--data", str(folder / "eruptions.csv"),
                             "--columns", "waiting,duration", "--states", "auto",
                             "--max-states", "3", "--out", str(folder / "hmm_run"),
                             "--no-report"])
assert result.exit_code == 0, result.output
print(result.output[-400:])
print("states chosen by the CLI:", latentmodels.load(folder / "hmm_run" / "model.lm").n_components)
shutil.rmtree(folder)  # the temporary folder; your own files stay where they are
