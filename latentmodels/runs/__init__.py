"""Runs: one orchestrator per family that fits a model on a data source, scores it on
held-out data, and records the run directory (``model.lm``, ``run.json``, ``report.html``;
the format is :mod:`latentmodels.rundir`). The command line is a thin layer over these.

- :func:`~latentmodels.runs.deep.fit_deep_run`: autoencoders and VAEs;
- :func:`~latentmodels.runs.gan.fit_gan_run`: GANs, judged by sample quality;
- :func:`~latentmodels.runs.hmm.fit_hmm_run`: hidden Markov models on sequences;
- :func:`~latentmodels.runs.lda.fit_lda_run`: topic models on text;
- :func:`~latentmodels.runs.linear.fit_linear_run`: the linear baselines (PCA, PPCA, FA).
"""
