"""Defaults of the run orchestrators, in a module that imports nothing, so the command line
can show them in ``--help`` without loading torch."""

#: Share of the data held out for testing, and the seed of the split.
DEFAULT_TEST_FRACTION = 0.2
SPLIT_SEED = 0
#: Importance samples for the held-out NLL of VAEs.
IWAE_SAMPLES = 100
#: HMM runs: the largest number of states tried by BIC, EM iterations and tolerance.
HMM_MAX_STATES = 6
HMM_N_ITER = 200
HMM_TOL = 1e-3
#: GAN runs: generated samples scored against as many held-out images (at most this many),
#: and the file of the judge classifier.
QUALITY_SAMPLES = 2000
JUDGE_FILE = "judge.lm"
