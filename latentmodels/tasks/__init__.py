"""What users do with a latent space: interpolate, and (later) anomaly, denoise, features."""
