"""Gaussian line decomposition: the GaussianLineFitter estimator, line profiles and scores."""

from ._fitter import GaussianLineFitter
from ._profiles import (
    GAUSSIAN_SIGMA_TO_FWHM,
    as_components,
    count_components,
    gaussian_area,
    gaussian_profile,
    gaussian_sum,
    sort_components,
)
from ._refine import refine_components, select_components
from .metrics import (
    component_count_accuracy,
    component_f1_score,
    component_scores,
    match_components,
)
from .real import LINE_WINDOWS, fit_line_window

__all__ = [
    "GAUSSIAN_SIGMA_TO_FWHM",
    "GaussianLineFitter",
    "LINE_WINDOWS",
    "as_components",
    "component_count_accuracy",
    "component_f1_score",
    "component_scores",
    "count_components",
    "fit_line_window",
    "gaussian_area",
    "gaussian_profile",
    "gaussian_sum",
    "match_components",
    "refine_components",
    "select_components",
    "sort_components",
]
