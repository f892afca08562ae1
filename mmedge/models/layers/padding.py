"""Pad an NCHW tensor to a multiple of a size (or a minimum size) and crop it back."""
from typing import Tuple

import torch
import torch.nn.functional as F

__all__ = ['pad_to_multiple', 'crop_to', 'pad_to_min_size']


def _tracing() -> bool:
    """Under tracing / ONNX export a shape-dependent branch would be frozen: always emit the op."""
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()


def pad_to_multiple(x: torch.Tensor,
                    multiple: int,
                    value: float = 0.) -> Tuple[torch.Tensor, Tuple[int, int]]:
    """Zero-pad H and W at the bottom / right up to multiples of ``multiple``.

    Returns:
        tuple: The padded tensor and the original ``(H, W)``.
    """
    h, w = x.shape[-2:]
    pad_h = (multiple - h % multiple) % multiple
    pad_w = (multiple - w % multiple) % multiple
    if pad_h or pad_w or _tracing():
        x = F.pad(x, (0, pad_w, 0, pad_h), value=value)
    return x, (h, w)


def crop_to(x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Crop the bottom / right of an NCHW tensor to ``size`` (a no-op when it already fits)."""
    h, w = size
    if x.shape[-2] == h and x.shape[-1] == w and not _tracing():
        return x
    return x[..., :h, :w].contiguous()


def pad_to_min_size(x: torch.Tensor, min_size: int) -> torch.Tensor:
    """Zero-pad H and W of an NCHW tensor at the bottom / right up to at least ``min_size``.

    Lets a non-overlapping patchify conv (kernel = stride = ``min_size``) keep one output pixel
    on maps smaller than its kernel; a no-op (the same tensor) otherwise.
    """
    h, w = x.shape[-2:]
    if h >= min_size and w >= min_size:
        return x
    return F.pad(x, (0, max(min_size - w, 0), 0, max(min_size - h, 0)))
