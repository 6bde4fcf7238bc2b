"""Internals of latent Dirichlet allocation: compiled kernels and input handling.

The public estimator is :class:`latentmodels.models.lda.LDA`.
"""
