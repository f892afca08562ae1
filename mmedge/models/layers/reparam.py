"""Kernel arithmetic for structural re-parameterisation (one place for every family)."""
import copy
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = [
    'fuse_conv_bn_tensors', 'fuse_conv_bn', 'bn_scale_shift',
    'fold_affine_into_input', 'fuse_bn_into_next', 'fuse_bn_into_linear',
    'pad_kernel', 'dilate_kernel'
]


def bn_scale_shift(
        bn: nn.Module) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
    """``(scale, shift)`` with ``bn(x) == x * scale + shift`` (per channel) in eval mode.

    None when ``bn`` is not a BatchNorm with running statistics (nothing to fold).
    """
    if not isinstance(bn, _BatchNorm) or bn.running_var is None:
        return None
    scale = torch.rsqrt(bn.running_var + bn.eps)
    shift = -bn.running_mean * scale
    if bn.affine:
        scale, shift = scale * bn.weight, shift * bn.weight + bn.bias
    return scale, shift


def fuse_conv_bn_tensors(
        weight: torch.Tensor, bias: Optional[torch.Tensor],
        bn: _BatchNorm) -> Tuple[torch.Tensor, torch.Tensor]:
    """Return ``(w, b)`` such that ``conv(x, w, b) == bn(conv(x, weight, bias))`` in eval mode."""
    scale, shift = bn_scale_shift(bn)
    w = weight * scale.reshape(-1, *([1] * (weight.ndim - 1)))
    b = shift if bias is None else bias * scale + shift
    return w, b


@torch.no_grad()
def fuse_conv_bn(conv: nn.Conv2d, bn: _BatchNorm) -> nn.Conv2d:
    """A new conv (with bias) equal to ``bn(conv(x))`` in eval mode."""
    w, b = fuse_conv_bn_tensors(conv.weight, conv.bias, bn)
    fused = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
        bias=True,
        padding_mode=conv.padding_mode).to(conv.weight.device,
                                           conv.weight.dtype)
    fused.weight.copy_(w)
    fused.bias.copy_(b)
    return fused


@torch.no_grad()
def fold_affine_into_input(layer: nn.Module, scale: torch.Tensor,
                           shift: torch.Tensor) -> None:
    """In place: new ``layer(x)`` == old ``layer(x * scale + shift)``.

    ``scale`` / ``shift`` are per input channel; ``layer`` is an ``nn.Linear`` or an
    unpadded, ungrouped conv (with padding, the zero border would not be shifted, so the fold
    would not be exact there). A missing bias is created.
    """
    if isinstance(layer, nn.modules.conv._ConvNd) and (
            layer.groups != 1 or any(layer.padding)):
        raise ValueError('fold_affine_into_input: the conv must be '
                         'ungrouped and unpadded for an exact fold')
    w = layer.weight
    view = (1, -1) + (1, ) * (w.ndim - 2)
    extra = (w * shift.view(view)).flatten(1).sum(1)
    if layer.bias is None:
        layer.bias = nn.Parameter(extra)
    else:
        layer.bias.add_(extra)
    w.mul_(scale.view(view))


@torch.no_grad()
def fuse_bn_into_next(bn: _BatchNorm, layer: nn.Module) -> nn.Module:
    """A copy of ``layer`` (Linear, or unpadded conv) equal to ``layer(bn(x))`` in eval mode.

    The copy always has a bias; ``layer`` itself is left unchanged.
    """
    affine = bn_scale_shift(bn)
    if affine is None:
        raise ValueError(f'cannot fold {type(bn).__name__} without running '
                         f'statistics')
    fused = copy.deepcopy(layer)
    if fused.bias is None:
        fused.bias = nn.Parameter(fused.weight.new_zeros(fused.weight.shape[0]))
    fold_affine_into_input(fused, *affine)
    return fused


def fuse_bn_into_linear(bn: _BatchNorm, linear: nn.Linear) -> nn.Linear:
    """A new Linear equal to ``linear(bn(x))`` in eval mode (BatchNorm1d *before* the Linear)."""
    return fuse_bn_into_next(bn, linear)


def pad_kernel(kernel: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Zero-pad a (O, I, kh, kw) kernel symmetrically to ``size`` (same centre)."""
    kh, kw = kernel.shape[-2:]
    th, tw = size
    if (th - kh) % 2 or (tw - kw) % 2 or th < kh or tw < kw:
        raise ValueError(f'cannot centre a {kh}x{kw} kernel in {th}x{tw}')
    ph, pw = (th - kh) // 2, (tw - kw) // 2
    return F.pad(kernel, (pw, pw, ph, ph))


def dilate_kernel(kernel: torch.Tensor, dilation: int) -> torch.Tensor:
    """The dense kernel equivalent to ``kernel`` applied with ``dilation``."""
    if dilation == 1:
        return kernel
    o, i, kh, kw = kernel.shape
    out = kernel.new_zeros(o, i, (kh - 1) * dilation + 1,
                           (kw - 1) * dilation + 1)
    out[..., ::dilation, ::dilation] = kernel
    return out
