"""Normalization and image augmentation modules."""

from __future__ import annotations

import torch
from torch import nn
from torchvision.transforms import v2

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
    """Random flips, crop, rotation, shift, zoom and contrast for a share of each batch.

    The geometric changes are torchvision's ``transforms.v2`` (flips, ``RandomResizedCrop``,
    one bilinear ``RandomAffine`` for rotation, shift and zoom, zero-filled: after
    normalization, the mean pixel), applied to each chosen image with its own random
    parameters. Contrast is scaled here: torchvision's clamps values to [0, 1], which
    normalized images leave. Identity in eval mode.

    Parameters
    ----------
    config : dict
        The sampled :class:`~sknas.ImageAugmentation` arguments.
    shape : tuple of int
        ``(channels, height, width)`` of the images.
    """

    def __init__(self, config: dict, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.percentage = float(config["percentage"])
        self.contrast = float(config["contrast_factor"])
        steps: list[nn.Module] = []
        if config["horizontal_flip"]:
            steps.append(v2.RandomHorizontalFlip())
        if config["vertical_flip"]:
            steps.append(v2.RandomVerticalFlip())
        if config["random_crop"]:
            # 80 to 100% of each side, the images' aspect kept, resized back
            height, width = shape[1:]
            aspect = (width / height, width / height)
            steps.append(v2.RandomResizedCrop((height, width), scale=(0.64, 1.0), ratio=aspect))
        rotation, shift, zoom = (
            float(config[k]) for k in ("rotation_range", "translation_factor", "zoom_factor")
        )
        if rotation or shift or zoom:
            steps.append(
                v2.RandomAffine(
                    degrees=rotation,
                    translate=(shift, shift) if shift else None,
                    scale=(1 - zoom, 1 + zoom) if zoom else None,
                    interpolation=v2.InterpolationMode.BILINEAR,
                    fill=0.0,
                )
            )
        self.geometric = v2.Compose(steps) if steps else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        chosen = torch.rand(x.shape[0], device=x.device) < self.percentage
        if not chosen.any():
            return x
        images = x[chosen]
        if self.contrast:
            n = images.shape[0]
            factor = 1 + (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) * 2 - 1) * (
                self.contrast
            )
            mean = images.mean(dim=(1, 2, 3), keepdim=True)
            images = (images - mean) * factor + mean
        if self.geometric is not None:
            # outside autocast: under it, torchvision's sampling grid is bfloat16, and an
            # image resampled on a grid of another dtype comes back rounded to integers
            with torch.autocast(x.device.type, enabled=False):
                images = torch.stack([self.geometric(image) for image in images])
        out = x.clone()
        out[chosen] = images
        return out


@builds("image_augmentation")
def build_image_augmentation(config, infos, target):
    info = infos[0]
    if len(info.shape) != 3:
        raise GraphError(f"ImageAugmentation needs images; received a {info.kind} node.")
    return ImageAugmenter(config, info.shape), info
