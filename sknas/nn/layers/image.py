"""Convolutional, residual and separable networks over images, sized for their input."""

from __future__ import annotations

import math

import torch
from torch import nn

from ...exceptions import GraphError
from ...space.spec import TensorInfo
from ..builder import builds
from .common import Reduce, vector
from .text import build_sequence_conv

SMALL_IMAGE = 32


def _spatial(info: TensorInfo, block: str) -> tuple[int, int, int]:
    if len(info.shape) != 3:
        raise GraphError(f"{block} needs images or feature maps; received a {info.kind} node.")
    c, h, w = info.shape
    return c, h, w


def conv_bn_relu(c_in: int, c_out: int, kernel: int, stride: int = 1, separable: bool = False):
    """Convolution (plain or depthwise-separable), batch norm, ReLU; 'same' padding."""
    if separable:
        conv: nn.Module = nn.Sequential(
            nn.Conv2d(c_in, c_in, kernel, stride, kernel // 2, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
        )
    else:
        conv = nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


def _halved(size: int) -> int:
    return size // 2 if size >= 2 else size


@builds("conv_block")
def build_conv_block(config, infos, target):
    if infos[0].kind == "sequence":
        return build_sequence_conv(config, infos[0])
    c, h, w = _spatial(infos[0], "ConvBlock")
    kernel = config["kernel_size"]
    if kernel > max(h, w):
        raise GraphError(
            f"kernel_size={kernel} is larger than the {h}x{w} input; use kernel_size <= "
            f"{max(h, w)}."
        )
    layers: list[nn.Module] = []
    for filters in config["filters"]:
        for _ in range(config["num_layers"]):
            layers.append(conv_bn_relu(c, filters, kernel, separable=config["separable"]))
            c = filters
        if config["max_pooling"] and min(h, w) >= 2:
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        if config["dropout"]:
            layers.append(nn.Dropout(config["dropout"]))
    return nn.Sequential(*layers), TensorInfo("spatial", (c, h, w))


class ResidualUnit(nn.Module):
    """Two 3x3 convolutions with a shortcut (projected when the shape changes)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_relu(c_in, c_out, 3, stride),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.shortcut = (
            nn.Identity()
            if stride == 1 and c_in == c_out
            else nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


def _stem(c: int, h: int, w: int, filters: int) -> tuple[nn.Module, int, int]:
    """3x3 stride-1 stem for small images; 7x7 stride-2 plus pooling for large ones."""
    if max(h, w) <= SMALL_IMAGE:
        return conv_bn_relu(c, filters, 3), h, w
    stem = nn.Sequential(conv_bn_relu(c, filters, 7, 2), nn.MaxPool2d(3, 2, 1))
    h, w = (h + 1) // 2, (w + 1) // 2
    return stem, (h + 1) // 2, (w + 1) // 2


@builds("resnet_block")
def build_resnet_block(config, infos, target):
    c, h, w = _spatial(infos[0], "ResNetBlock")
    filters = config["base_filters"]
    stem, h, w = _stem(c, h, w, filters)
    layers: list[nn.Module] = [stem]
    c = filters
    for stage in range(config["num_stages"]):
        out = filters * 2**stage
        for unit in range(config["blocks_per_stage"]):
            stride = 2 if stage > 0 and unit == 0 and min(h, w) >= 2 else 1
            layers.append(ResidualUnit(c, out, stride))
            if stride == 2:
                h, w = (h + 1) // 2, (w + 1) // 2
            c = out
    return nn.Sequential(*layers), TensorInfo("spatial", (c, h, w))


class SeparableResidual(nn.Module):
    """Separable convolutions with a residual link; optionally downsampling by 2."""

    def __init__(self, c_in: int, c_out: int, repeats: int, downsample: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = c_in
        for _ in range(repeats):
            layers.append(conv_bn_relu(c, c_out, 3, separable=True))
            c = c_out
        if downsample:
            layers.append(nn.MaxPool2d(3, 2, 1))
        self.body = nn.Sequential(*layers)
        stride = 2 if downsample else 1
        self.shortcut = (
            nn.Identity()
            if stride == 1 and c_in == c_out
            else nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


@builds("xception_block")
def build_xception_block(config, infos, target):
    c, h, w = _spatial(infos[0], "XceptionBlock")
    filters = config["filters"]
    small = max(h, w) <= SMALL_IMAGE
    layers: list[nn.Module] = [conv_bn_relu(c, filters, 3, 1 if small else 2)]
    if not small:
        h, w = (h + 1) // 2, (w + 1) // 2
    downsample = min(h, w) >= 2
    layers.append(SeparableResidual(filters, 2 * filters, 2, downsample))
    if downsample:
        h, w = (h + 1) // 2, (w + 1) // 2
    for _ in range(config["num_middle_blocks"]):
        layers.append(SeparableResidual(2 * filters, 2 * filters, 3, False))
    if config["dropout"]:
        layers.append(nn.Dropout(config["dropout"]))
    return nn.Sequential(*layers), TensorInfo("spatial", (2 * filters, h, w))


@builds("spatial_reduction")
def build_spatial_reduction(config, infos, target):
    info = infos[0]
    if len(info.shape) < 2:
        raise GraphError(f"SpatialReduction needs feature maps; received a {info.kind} node.")
    how = config["reduction_type"]
    width = info.shape[0] if how != "flatten" else math.prod(info.shape)
    return Reduce(how), vector(width)
