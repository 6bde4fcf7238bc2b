"""The command line's choices and defaults are the estimators' own declarations.

The CLI keeps its option types importable without torch (``latentmodels --help`` starts in a
fraction of a second), so it cannot read the estimators when it starts; these tests read both
and fail on any drift, so the two cannot disagree.
"""

from __future__ import annotations

import inspect

import pytest

from latentmodels import GAN, VAE, Autoencoder, ConditionalVAE, DenoisingAutoencoder
from latentmodels.cli import _common, train
from latentmodels.cli import gan as cli_gan
from latentmodels.deep import parameter_choices, parameter_default

DEEP = {"ae": Autoencoder, "dae": DenoisingAutoencoder, "vae": VAE, "cvae": ConditionalVAE}


def _values(enum) -> set[str]:
    return {member.value for member in enum}


@pytest.mark.parametrize(
    ("enum", "estimator", "parameter"),
    [
        (_common.Architecture, VAE, "architecture"),
        (_common.Likelihood, VAE, "likelihood"),
        (_common.Corruption, DenoisingAutoencoder, "corruption"),
        (cli_gan.GanArchitecture, GAN, "architecture"),
        (cli_gan.GanLoss, GAN, "loss"),
    ],
)
def test_cli_choices_are_the_declared_choices(enum, estimator, parameter):
    assert _values(enum) == set(parameter_choices(estimator, parameter))


def test_covariance_types_are_the_gaussian_hmms():
    from latentmodels.hmm.emissions import get_emission

    spec = get_emission("gaussian")
    constraint = spec.estimator._parameter_constraints["covariance_type"]
    declared = set().union(*(getattr(c, "options", set()) for c in constraint))
    assert _values(_common.CovarianceType) == declared


def _train_command(kind: str):
    for command in train.train_app.registered_commands:
        if command.name == kind:
            return inspect.signature(command.callback).parameters
    raise AssertionError(f"no train {kind} command")


@pytest.mark.parametrize("kind", sorted(DEEP))
@pytest.mark.parametrize(
    "name", ["epochs", "batch_size", "validation_fraction", "patience", "architecture"]
)
def test_train_defaults_are_each_models_defaults(kind, name):
    shown = _train_command(kind)[name].default
    shown = getattr(shown, "value", shown)
    assert shown == parameter_default(DEEP[kind], name)


@pytest.mark.parametrize("kind", sorted(DEEP))
@pytest.mark.parametrize("name", ["latent_dim", "learning_rate"])
def test_defaults_that_differ_by_model_are_left_to_the_model(kind, name):
    # VAEs learn at 2e-3 with 16 latent dimensions, autoencoders at 1e-3 with 32: the command
    # passes nothing, so each model uses its own default.
    assert _train_command(kind)[name].default is None


@pytest.mark.parametrize("kind", sorted(DEEP))
def test_help_defaults_are_each_models_declared_defaults(kind):
    shown = train.DEEP_MODEL_DEFAULTS[kind]
    for name, value in shown.items():
        if name == "likelihood" and kind in ("ae", "dae"):
            loss = parameter_default(DEEP[kind], "reconstruction_loss")
            assert value == {"bce": "bernoulli", "mse": "gaussian"}[loss]
        else:
            assert value == parameter_default(DEEP[kind], name), name
    # every option the command shows a model default for is in the table
    options = _train_command(kind)
    assert {n for n in train._SHOWN_DEFAULTS if n in options} == set(shown)


@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize(
    "name", ["latent_dim", "epochs", "batch_size", "lr_g", "lr_d", "ema_decay"]
)
def test_gan_defaults_are_the_gans(conditional, name):
    from latentmodels import ConditionalGAN

    options = _train_command("cgan" if conditional else "gan")
    assert options[name].default == parameter_default(ConditionalGAN if conditional else GAN,
                                                      name)
