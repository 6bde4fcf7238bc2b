"""What users do with a latent space: interpolate, maps, anomaly detection, denoising,
features for a classifier, and measuring bias."""
