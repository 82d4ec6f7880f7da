"""Image input for estimators: three layouts in, the same layout out, NaN pixels as masks.

Images arrive as ``(n, H, W)``, ``(n, C, H, W)`` or flat ``(n, C·H·W)`` with an
``image_shape`` parameter (flat rows are what ``StandardScaler`` and other
sklearn transformers pass on). Internally every method works on
``(n, C, H, W)`` float64 arrays and a weight array of the same shape, where
NaN pixels and ``ivar == 0`` both mean "masked".
"""

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import check_ivar, check_magnitude

__all__ = ["ImageInputMixin"]

FLAT, HW, CHW = "flat", "hw", "chw"


def _resolve_shape(image_shape, n_features):
    """``image_shape`` with its ``-1`` entry (if any) filled in from ``n_features``."""
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or any(s == 0 or s < -1 for s in shape) or shape.count(-1) > 1:
        raise ValueError(
            f"image_shape must be three positive integers (C, H, W), one of which may be -1 "
            f"(inferred, as in numpy.reshape); got {image_shape!r}."
        )
    known = int(np.prod([s for s in shape if s != -1]))
    if -1 in shape:
        if n_features % known:
            raise ValueError(
                f"image_shape={image_shape!r} cannot hold {n_features} features per row: "
                f"{n_features} is not a multiple of {known}."
            )
        shape = tuple(n_features // known if s == -1 else s for s in shape)
    if int(np.prod(shape)) != n_features:
        raise ValueError(
            f"image_shape={image_shape!r} holds {int(np.prod(shape))} pixels, but X has "
            f"{n_features} features per row; give image_shape=(C, H, W) with C*H*W == "
            f"{n_features}."
        )
    return shape


class ImageInputMixin:
    """Validation and layout handling for estimators on images.

    The estimator has an ``image_shape`` parameter. ``fit`` calls
    ``_validate_images(X, ivar, reset=True)``; every other method calls it
    with ``reset=False``. Fitted attributes: ``image_shape_`` ``(C, H, W)``,
    ``n_features_in_`` (``C·H·W``) and ``_fit_layout``.
    """

    def _validate_images(self, X, ivar=None, *, reset):
        """Validate ``X`` (and ``ivar``); return ``(images, weight, layout)``.

        ``images`` is ``(n, C, H, W)`` float64 with masked pixels set to 0,
        ``weight`` the matching inverse variance (1 where none is given, 0 at
        NaN pixels) and ``layout`` one of ``"flat"``, ``"hw"``, ``"chw"``.
        """
        if reset:
            self._validate_params()
        else:
            check_is_fitted(self)
        if hasattr(X, "shape"):
            ndim = len(X.shape)
        else:  # nested lists may hold images; anything else goes to sklearn's validation
            ndim = np.asarray(X).ndim if isinstance(X, list | tuple) else 2
        if ndim > 4:
            raise ValueError(
                f"X has {ndim} dimensions (shape {tuple(np.shape(X))}); give images as "
                "(n_samples, H, W), (n_samples, C, H, W), or flat rows (n_samples, C*H*W) "
                "with image_shape=(C, H, W)."
            )
        kwargs = dict(dtype=[np.float64, np.float32], ensure_all_finite="allow-nan")
        if ndim in (3, 4):
            raw = check_array(X, allow_nd=True, **kwargs)
            layout = HW if ndim == 3 else CHW
            shape = (1, *raw.shape[1:]) if ndim == 3 else raw.shape[1:]
            flat = validate_data(self, raw.reshape(raw.shape[0], -1), reset=reset, **kwargs)
            if reset:
                if self.image_shape is not None and (
                    _resolve_shape(self.image_shape, flat.shape[1]) != shape
                ):
                    raise ValueError(
                        f"X holds images of shape {shape} (C, H, W) but image_shape="
                        f"{self.image_shape!r}; drop image_shape or make them agree."
                    )
                self.image_shape_ = tuple(int(s) for s in shape)
            elif tuple(shape) != self.image_shape_:
                raise ValueError(
                    f"X holds images of shape {tuple(shape)} (C, H, W) but the estimator was "
                    f"fitted on {self.image_shape_}."
                )
        else:
            layout = FLAT
            flat = validate_data(self, X, reset=reset, **kwargs)
            if reset:
                if self.image_shape is None:
                    raise ValueError(
                        f"X is a 2-D array of shape {flat.shape}, which does not say how its "
                        "pixels form images: pass image_shape=(C, H, W) with C*H*W == "
                        f"{flat.shape[1]}, or give images as (n, H, W) or (n, C, H, W)."
                    )
                self.image_shape_ = _resolve_shape(self.image_shape, flat.shape[1])
        check_magnitude(flat)
        if reset:
            self._fit_layout = layout
        raw_shape = flat.shape if layout == FLAT else (flat.shape[0], *raw.shape[1:])
        weight = self._image_weight(ivar, flat, raw_shape)
        images = np.where(weight > 0, flat, 0.0).astype(np.float64)
        n = flat.shape[0]
        return images.reshape(n, *self.image_shape_), weight.reshape(n, *self.image_shape_), layout

    @staticmethod
    def _image_weight(ivar, flat, raw_shape):
        """Inverse variance of ``flat`` (``(n, C·H·W)``), 0 at its NaN pixels."""
        if ivar is not None:
            ivar = check_array(ivar, allow_nd=True, dtype=np.float64, input_name="ivar")
            if ivar.shape != tuple(raw_shape):
                raise ValueError(
                    f"ivar has shape {ivar.shape} but the images X have shape "
                    f"{tuple(raw_shape)}; give one inverse variance per pixel, in X's layout."
                )
            ivar = ivar.reshape(flat.shape)
        weight = check_ivar(ivar, flat, allow_all_masked=True)
        weight = np.where(np.isnan(flat), 0.0, weight)
        empty = np.flatnonzero(~np.any(weight > 0, axis=1))
        if empty.size:
            raise ValueError(
                f"{empty.size} images have every pixel masked (NaN or ivar == 0), e.g. image "
                f"{empty[0]}; drop them before calling this method."
            )
        return weight

    def _to_layout(self, images, layout):
        """Reshape ``(n, C, H, W)`` results back into the caller's layout."""
        n = images.shape[0]
        if layout == FLAT:
            return images.reshape(n, -1)
        if layout == HW:
            return images.reshape(n, *self.image_shape_[1:])
        return images
