"""Deep models declare their hyper-parameters and constraints once: scikit-learn's own
_validate_params checks them, and parameter_choices/parameter_default read them for the
command line."""

from __future__ import annotations

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import InvalidParameterError

from latentmodels import (
    GAN,
    VAE,
    Autoencoder,
    ConditionalGAN,
    ConditionalVAE,
    DebiasingVAE,
    DenoisingAutoencoder,
)
from latentmodels.deep import hyperparameters, parameter_choices, parameter_default

DEEP = [VAE, ConditionalVAE, DebiasingVAE, Autoencoder, DenoisingAutoencoder, GAN, ConditionalGAN]


@pytest.mark.parametrize("cls", DEEP, ids=lambda c: c.__name__)
def test_constraints_cover_exactly_the_init_arguments(cls):
    assert set(cls._parameter_constraints) == set(cls().get_params())
    # scikit-learn's own check runs; nobody overrides it under that name.
    assert cls._validate_params is BaseEstimator._validate_params
    cls()._validate_params()


@pytest.mark.parametrize(
    "cls,params,message",
    [
        (VAE, {"beta": -1.0}, "beta must be >= 0, got -1.0"),
        (VAE, {"kl_warmup_epochs": 1.5}, "kl_warmup_epochs must be an integer"),
        (VAE, {"patience": 0}, "patience must be >= 1"),
        (VAE, {"lr_schedule": "step"}, "lr_schedule must be one of 'constant', 'cosine'"),
        (VAE, {"random_state": "seed"}, "random_state must be"),
        (Autoencoder, {"reconstruction_loss": "l1"}, "reconstruction_loss must be one of"),
        (DenoisingAutoencoder, {"corruption": "blur"}, "corruption must be one of 'gaussian'"),
        (DebiasingVAE, {"n_bins": 1}, "n_bins must be >= 2"),
        (DebiasingVAE, {"alpha": 0.0}, "alpha must be > 0"),
        (DebiasingVAE, {"debias": "yes"}, "debias must be True or False"),
        (GAN, {"max_time": 0}, "max_time must be > 0"),
        # What scikit-learn's intervals alone would let through: a bool, an infinity.
        (VAE, {"batch_size": True}, "batch_size must be an integer, got True"),
        (VAE, {"learning_rate": float("inf")}, "learning_rate must be finite"),
        (VAE, {"free_bits": float("nan")}, "free_bits must be finite"),
        (Autoencoder, {"checkpoint_dir": 3}, "checkpoint_dir must be a string or a path or None"),
    ],
)
def test_constraint_errors_name_the_argument(mnist_small, cls, params, message):
    model = cls(epochs=1, verbose=0, **params)
    with pytest.raises(InvalidParameterError, match=message) as info:
        model.fit(mnist_small[0][:16], mnist_small[1][:16] % 2)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def test_parameter_choices_come_from_the_declarations():
    assert parameter_choices(VAE, "likelihood") == ("bernoulli", "gaussian")
    assert parameter_choices(VAE, "architecture") == ("conv", "mlp")
    assert parameter_choices(VAE, "optimizer") == ("adam", "adamw")
    assert parameter_choices(VAE, "lr_schedule") == ("constant", "cosine", "plateau")
    assert parameter_choices(GAN, "loss") == ("hinge", "ns", "wgan-gp")
    assert parameter_choices(GAN, "architecture") == ("auto", "conv", "mlp")
    assert parameter_choices(Autoencoder, "reconstruction_loss") == ("bce", "mse")
    assert parameter_choices(DenoisingAutoencoder, "corruption") == (
        "gaussian", "masking", "salt_and_pepper")
    assert parameter_choices(VAE(), "likelihood") == ("bernoulli", "gaussian")
    with pytest.raises(ValueError, match="no hyper-parameter 'loss'"):
        parameter_choices(VAE, "loss")
    with pytest.raises(ValueError, match="not a choice among strings"):
        parameter_choices(VAE, "beta")


def test_parameter_defaults_come_from_the_signature():
    assert parameter_default(VAE, "learning_rate") == 2e-3
    assert parameter_default(Autoencoder, "learning_rate") == 1e-3
    assert parameter_default(DebiasingVAE, "learning_rate") == 1e-3
    assert parameter_default(GAN, "lr_g") == 2e-4
    assert parameter_default(DenoisingAutoencoder, "noise_level") == 0.3
    assert parameter_default(ConditionalVAE(), "latent_dim") == 16
    with pytest.raises(ValueError, match="no hyper-parameter 'lr'"):
        parameter_default(VAE, "lr")


def test_a_declaration_without_its_constraint_is_refused():
    with pytest.raises(TypeError, match=r"missing \['kl_scale'\]"):

        @hyperparameters
        class Undeclared(VAE):
            kl_scale: float = 2.0


def test_latent_dim_stays_positional_and_the_rest_keyword_only():
    assert VAE(3).latent_dim == 3 and GAN(5).latent_dim == 5
    with pytest.raises(TypeError):
        VAE(3, "conv")
