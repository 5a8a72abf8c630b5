"""The 1D CNN of the study: architecture, deterministic training, and .h5 storage.

TensorFlow is imported lazily inside functions so that `import tinyeit.models` (and the CLI)
stays fast.
"""
