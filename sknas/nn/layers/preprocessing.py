"""Normalization and image augmentation modules."""

from __future__ import annotations

import math

import torch
from torch import nn

from ...exceptions import GraphError
from ...space.spec import TensorInfo
from ..builder import builds
from .tabular import NumericScaler, scaled_bins


class ChannelScaler(nn.Module):
    """Standardize each channel of ``(n, c, ...)`` input with stored statistics."""

    def __init__(self, mean: list[float], scale: list[float], ndim: int) -> None:
        super().__init__()
        shape = (1, len(mean)) + (1,) * (ndim - 2)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).reshape(shape))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32).reshape(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.scale


@builds("normalization")
def build_normalization(config, infos, target):
    info = infos[0]
    if "stats" not in info.meta:
        raise GraphError(
            "Normalization must be applied directly to an input, where the statistics of the "
            f"training data are known; it received a {info.kind} node."
        )
    if info.kind == "tabular":
        stats = info.meta["stats"]
        scaler = NumericScaler(config["method"], stats)
        if "bins" not in stats:
            return scaler, info
        # a piecewise-linear embedding after it cuts the scaled values at the scaled edges
        bins = scaled_bins(config["method"], stats)
        return scaler, TensorInfo(info.kind, info.shape, {**info.meta, "bins": bins})
    if config["method"] != "standard":
        raise GraphError(
            f"Normalization(method={config['method']!r}) works on tables only; images use "
            f"method='standard'."
        )
    stats = info.meta["stats"]
    return ChannelScaler(stats["mean"], stats["scale"], len(info.shape) + 1), info


class ImageAugmenter(nn.Module):
    """Random flips, rotation, crop, shift, zoom and contrast for a share of each batch.

    Geometric changes are one affine resampling per image (zero padding, which after
    normalization is the mean pixel). Identity in eval mode.
    """

    def __init__(self, config: dict) -> None:
        super().__init__()
        self.percentage = float(config["percentage"])
        self.rotation = math.radians(float(config["rotation_range"]))
        self.random_crop = bool(config["random_crop"])
        self.horizontal_flip = bool(config["horizontal_flip"])
        self.vertical_flip = bool(config["vertical_flip"])
        self.translation = float(config["translation_factor"])
        self.zoom = float(config["zoom_factor"])
        self.contrast = float(config["contrast_factor"])
        self.geometric = any(
            [
                self.rotation,
                self.random_crop,
                self.horizontal_flip,
                self.vertical_flip,
                self.translation,
                self.zoom,
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        n = x.shape[0]
        opts = {"device": x.device, "dtype": x.dtype}
        chosen = (torch.rand(n, device=x.device) < self.percentage).to(x.dtype)

        def spread(limit: float) -> torch.Tensor:
            return (torch.rand(n, **opts) * 2 - 1) * limit * chosen

        if self.contrast:
            factor = (1 + spread(self.contrast)).view(n, 1, 1, 1)
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            x = (x - mean) * factor + mean
        if not self.geometric:
            return x
        angle = spread(self.rotation)
        scale = 1 + spread(self.zoom)
        shift_x, shift_y = spread(2 * self.translation), spread(2 * self.translation)
        if self.random_crop:
            crop = 1 - torch.rand(n, **opts) * 0.2 * chosen
            scale = scale * crop
            shift_x = shift_x + spread(1.0) * (1 - crop)
            shift_y = shift_y + spread(1.0) * (1 - crop)

        def flip(enabled: bool) -> torch.Tensor:
            if not enabled:
                return torch.ones(n, **opts)
            return 1 - 2 * ((torch.rand(n, device=x.device) < 0.5).to(x.dtype) * chosen)

        sx, sy = scale * flip(self.horizontal_flip), scale * flip(self.vertical_flip)
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.stack(
            [
                torch.stack([cos * sx, -sin * sy, shift_x], dim=1),
                torch.stack([sin * sx, cos * sy, shift_y], dim=1),
            ],
            dim=1,
        )
        grid = nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
        return nn.functional.grid_sample(x, grid, padding_mode="zeros", align_corners=False)


@builds("image_augmentation")
def build_image_augmentation(config, infos, target):
    info = infos[0]
    if len(info.shape) != 3:
        raise GraphError(f"ImageAugmentation needs images; received a {info.kind} node.")
    return ImageAugmenter(config), info
