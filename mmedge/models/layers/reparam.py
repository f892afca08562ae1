"""Kernel arithmetic for structural re-parameterisation (one place for every family)."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    'fuse_conv_bn_tensors', 'fuse_conv_bn', 'fuse_bn_into_linear',
    'pad_kernel', 'dilate_kernel'
]


def fuse_conv_bn_tensors(
        weight: torch.Tensor, bias: Optional[torch.Tensor],
        bn: nn.modules.batchnorm._BatchNorm
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Return ``(w, b)`` such that ``conv(x, w, b) == bn(conv(x, weight, bias))`` in eval mode."""
    std = (bn.running_var + bn.eps).sqrt()
    gamma = bn.weight if bn.affine else torch.ones_like(std)
    beta = bn.bias if bn.affine else torch.zeros_like(std)
    scale = gamma / std
    w = weight * scale.reshape(-1, *([1] * (weight.ndim - 1)))
    b = bias if bias is not None else torch.zeros_like(bn.running_mean)
    b = beta + (b - bn.running_mean) * scale
    return w, b


@torch.no_grad()
def fuse_conv_bn(conv: nn.Conv2d,
                 bn: nn.modules.batchnorm._BatchNorm) -> nn.Conv2d:
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
def fuse_bn_into_linear(bn: nn.modules.batchnorm._BatchNorm,
                        linear: nn.Linear) -> nn.Linear:
    """A new Linear equal to ``linear(bn(x))`` in eval mode (BatchNorm1d *before* the Linear)."""
    std = (bn.running_var + bn.eps).sqrt()
    gamma = bn.weight if bn.affine else torch.ones_like(std)
    beta = bn.bias if bn.affine else torch.zeros_like(std)
    scale = gamma / std
    shift = beta - bn.running_mean * scale
    w = linear.weight * scale[None, :]
    b = linear.weight @ shift
    if linear.bias is not None:
        b = b + linear.bias
    fused = nn.Linear(linear.in_features, linear.out_features).to(
        linear.weight.device, linear.weight.dtype)
    fused.weight.copy_(w)
    fused.bias.copy_(b)
    return fused


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
