"""Numbers that judge a latent variable model and what it is used for.

- :mod:`.detection`: AUROC and AUPRC of anomaly scores;
- :mod:`.image`: PSNR and SSIM of denoised or reconstructed images;
- :mod:`.generative`: sample quality (classifier-feature Frechet distance, k-NN
  precision/recall, mode coverage);
- :mod:`.topics`: topic-model perplexity, coherence and diversity.

The public names of the first three are re-exported here.
"""

from .detection import anomaly_scores_report, auprc, auroc
from .generative import (
    FeatureClassifier,
    feature_statistics,
    frechet_distance,
    frechet_distance_from_stats,
    mode_coverage,
    precision_recall,
    sample_quality,
)
from .image import SSIM_BACKEND, psnr, ssim

__all__ = [
    "SSIM_BACKEND",
    "FeatureClassifier",
    "anomaly_scores_report",
    "auprc",
    "auroc",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_from_stats",
    "mode_coverage",
    "precision_recall",
    "psnr",
    "sample_quality",
    "ssim",
]
