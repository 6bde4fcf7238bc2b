"""
GAN on MNIST: samples and the two players' losses
=================================================

A GAN learns to draw digits without an encoder or a likelihood: a generator turns N(0, I)
codes into images and a discriminator learns to tell them from real ones. Here a small
fully connected GAN trains for six passes over 2,000 digits, seconds on a CPU, so its
samples are still blurred, look-alike blobs. A real run uses the default DCGAN-style networks for
minutes: ``BENCHMARKS.md`` measures ``GAN()`` under a 240-second budget on MNIST (10 to 12
epochs), whose samples cover all ten digits. Judge samples with
:func:`latentmodels.metrics.sample_quality`, not by the losses.
"""

from latentmodels import GAN, datasets
from latentmodels.plots import plot_samples
from latentmodels.plots.gan import plot_player_losses

X, y = datasets.load_mnist()
gan = GAN(architecture="mlp", hidden_dims=(256, 256), latent_dim=32, epochs=6,
          data_range=(0.0, 1.0), verbose=0, random_state=0).fit(X[:2000])
print("epochs run:", gan.n_epochs_, "final losses:",
      {key: round(value, 3) for key, value in gan.history_[-1].items()
       if key in ("d_loss", "g_loss")})

# %%
# Samples from the generator (its weight average), after seconds of training:
samples = plot_samples(gan, n=32, ncols=8)

# %%
# Losses per epoch: neither player should win outright.
losses = plot_player_losses(gan)
