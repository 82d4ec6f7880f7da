"""skspectra: scikit-learn estimators for deep models of astronomical spectra and images."""

__version__ = "0.1.0.dev0"
