"""``ImageAutoencoder``'s network and training: can a change reach 0.7× PCA-8's held-out MSE?

With 16 filters the default autoencoder's held-out MSE is 0.76× PCA-8's on the dev seeds
(``benchmarks/results/search/images_filters.json``), and its MSE on its own (unaugmented)
training stamps is about the same, which looked like underfitting. ``python -m
benchmarks.search.images_architecture`` fits, on the split of ``benchmarks/bench_images.py`` for
each dev seed (10-12, as ``images_filters``), the defaults (``n_components=8``, 16 filters,
skips off, 150 epochs) and variants of the network or its training that are defined here only,
as subclasses, so that nothing in ``skspectra`` changes unless one of them wins:

``'default'``
    ``ImageAutoencoder(n_components=8)``.
``'pca_path'``
    The latent is the sum of the CNN encoder's output and a linear map of the pixels, and the
    image the sum of the CNN decoder's output and a linear map of the latent. The linear maps
    start as PCA-8 of the standardised training images, and the CNN encoder's last layer and
    the decoder's output convolution start at zero, so that training starts from PCA-8's
    reconstruction (as ``SpectralVAE`` starts from PCA) and the CNN learns what PCA misses.
``'pca_path_no_augment'``
    The same, trained without flips and rotations.
``'pca_path_frozen'``
    The same as ``'pca_path'``, its two linear maps fixed at PCA-8's (not trained).
``'mlp_bottleneck'``
    A hidden layer of 256 units with ReLU between the coarsest map and the latent, in the
    encoder and in the decoder (the default maps them linearly).
``'epochs_300'``
    The default network, trained for 300 epochs instead of 150.
``'weight_decay_1e-4'``, ``'weight_decay_1e-3'``
    The default network, with Adam's L2 weight decay.
``'denoise_0.2'``
    A denoising autoencoder: Gaussian noise of σ = 0.2 (in the per-band standardised units the
    network sees) is added to each training input, not to its target.
``'no_norm'``, ``'no_norm_decoder'``
    The default network without its GroupNorm layers (every one, or the decoder's only).
    GroupNorm standardises each image's feature maps, so the overall brightness of a stamp,
    which the first principal component carries, has to pass around it.
``'depth_2'``
    Two levels instead of 3: the latent is read from, and decoded into, an 8 × 8 map.
``'shift_1px'``
    Each training image and its target are also shifted by a random whole number of pixels in
    -1, 0, 1 along each axis (``torch.roll``), after the flips and rotations.

It records what ``images_filters`` records (held-out and training MSE over PCA-8's, anomaly
ROC-AUC, fit seconds) and writes ``benchmarks/results/search/images_architecture.json``;
``--quick`` trains 2 epochs; ``--variants`` fits only those, keeping the other variants' rows
of the results file. The report seeds (0-2) are not used.
"""

import argparse
import json
import time

import numpy as np
from joblib import Parallel, delayed

from benchmarks.search import results_path, write_results
from benchmarks.search.images_filters import N_COMPONENTS, describe, fit_and_score

DEV_SEEDS = [10, 11, 12]
VARIANTS = [
    "default",
    "pca_path",
    "pca_path_no_augment",
    "pca_path_frozen",
    "mlp_bottleneck",
    "epochs_300",
    "weight_decay_1e-4",
    "weight_decay_1e-3",
    "denoise_0.2",
    "shift_1px",
    "no_norm",
    "no_norm_decoder",
    "depth_2",
]
# estimator parameters of each variant, beside n_components and random_state
PARAMS = {
    "pca_path_no_augment": {"augment": False},
    "epochs_300": {"max_epochs": 300},
    "depth_2": {"depth": 2},
}
HIDDEN = 256


def _variant_class(variant):
    """An ImageAutoencoder subclass whose network is ``variant``'s."""
    import torch
    from torch import nn

    from skspectra.images import ImageAutoencoder
    from skspectra.images._augment import RandomDihedral
    from skspectra.nn import ImageAutoencoder2d

    class PCAPathAutoencoder2d(ImageAutoencoder2d):
        def __init__(self, *args, training_images, **kwargs):
            super().__init__(*args, **kwargs)
            flat = training_images.reshape(len(training_images), -1).astype(np.float64)
            mean = flat.mean(axis=0)
            _, _, vt = np.linalg.svd(flat - mean, full_matrices=False)
            basis = torch.as_tensor(vt[: self.encoder.head.out_features], dtype=torch.float32)
            mean = torch.as_tensor(mean, dtype=torch.float32)
            self.linear_encoder = nn.Linear(basis.shape[1], basis.shape[0])
            self.linear_decoder = nn.Linear(basis.shape[0], basis.shape[1])
            with torch.no_grad():
                self.linear_encoder.weight.copy_(basis)
                self.linear_encoder.bias.copy_(-basis @ mean)
                self.linear_decoder.weight.copy_(basis.T)
                self.linear_decoder.bias.copy_(mean)
                for layer in (self.encoder.head, self.out):
                    layer.weight.zero_()
                    layer.bias.zero_()
            if variant == "pca_path_frozen":
                self.linear_encoder.requires_grad_(False)
                self.linear_decoder.requires_grad_(False)

        def encode(self, x):
            return self.encoder(x) + self.linear_encoder(x.flatten(1))

        def decode(self, z):
            linear = self.linear_decoder(z).view(z.shape[0], self.in_channels, *self.sizes[0])
            return self._decode_from(z, None) + linear

        def forward(self, x):
            return self.decode(self.encode(x))

    def roll(a, shift):
        return torch.roll(a, shift.tolist(), (-2, -1))

    class Augment(RandomDihedral):
        def __call__(self, batch):
            X, y = super().__call__(batch)
            if variant == "denoise_0.2":
                X = X + 0.2 * torch.randn_like(X)
            elif variant == "shift_1px":
                shifts = torch.randint(-1, 2, (X.shape[0], 2))
                X = torch.stack([roll(a, d) for a, d in zip(X, shifts, strict=True)])
                y = torch.stack([roll(a, d) for a, d in zip(y, shifts, strict=True)])
            return X, y

    class Variant(ImageAutoencoder):
        def _net_kwargs(self):
            kwargs = {**super()._net_kwargs(), "iterator_train__collate_fn": Augment()}
            if variant.startswith("weight_decay"):
                kwargs["optimizer__weight_decay"] = float(variant.rsplit("_", 1)[1])
            return kwargs

        def _fit_net(self, X_train, y_train, **kwargs):
            self._training_images = X_train
            return super()._fit_net(X_train, y_train, **kwargs)

        def _build_module(self, n_features):
            if variant.startswith("pca_path"):
                c, h, w = self.image_shape_
                return PCAPathAutoencoder2d(
                    c,
                    (h, w),
                    self.n_components,
                    self.n_filters,
                    self.depth,
                    training_images=self._training_images,
                )
            module = super()._build_module(n_features)
            if variant.startswith("no_norm"):
                parts = [module.blocks] if variant == "no_norm_decoder" else [module]
                for part in parts:
                    for block in part.modules():
                        for i, layer in enumerate(block.children()):
                            if isinstance(layer, nn.GroupNorm):
                                block[i] = nn.Identity()
            if variant == "mlp_bottleneck":
                encoder_head, decoder_head = module.encoder.head, module.head
                module.encoder.head = nn.Sequential(
                    nn.Linear(encoder_head.in_features, HIDDEN),
                    nn.ReLU(),
                    nn.Linear(HIDDEN, encoder_head.out_features),
                )
                module.head = nn.Sequential(
                    nn.Linear(decoder_head.in_features, HIDDEN),
                    nn.ReLU(),
                    nn.Linear(HIDDEN, decoder_head.out_features),
                )
            return module

    return Variant


def _one(variant, seed, max_epochs):
    params = {**PARAMS.get(variant, {}), **max_epochs}
    model = _variant_class(variant)(n_components=N_COMPONENTS, random_state=seed, **params)
    row = {"seed": seed, "variant": variant, **fit_and_score(model, seed)}
    print(f"seed {seed}, {variant}: {describe(row)}", flush=True)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--variants", nargs="+", default=VARIANTS, choices=VARIANTS)
    args = parser.parse_args(argv)
    epochs = {"max_epochs": 2} if args.quick else {}
    rows = Parallel(n_jobs=2)(
        delayed(_one)(v, seed, epochs) for v in args.variants for seed in DEV_SEEDS
    )
    path = results_path("images_architecture", args.quick)
    if path.exists():  # keep the rows of the variants not fitted now
        kept = json.loads(path.read_text())["rows"]
        rows += [r for r in kept if r["variant"] not in args.variants]
    out = {
        "command": "python -m benchmarks.search.images_architecture",
        "dev_seeds": DEV_SEEDS,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": sorted(rows, key=lambda r: (VARIANTS.index(r["variant"]), r["seed"])),
    }
    write_results("images_architecture", out, quick=args.quick)


if __name__ == "__main__":
    main()
