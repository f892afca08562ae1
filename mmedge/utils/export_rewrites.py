"""Dynamic-shape-safe forms of OpenMMLab modules whose ``forward`` freezes sizes in a trace.

mmseg's ``Upsample`` (the 2x upsampling inside ``FPNHead``'s scale heads, used by every Semantic
FPN config) computes its output size as ``[int(t * scale_factor) for t in x.shape[-2:]]``. Under
``torch.onnx.export`` (TorchScript tracing) ``int()`` turns the traced size into a constant, so
a graph exported at one input size and run at another upsamples to the *export* size; the head
then resizes that map back to the running size and the logits are wrong, silently (measured on a
fixed-seed FPN + EdgeViT-XXS exported at 512 x 512 and run at 256 x 256: 93 % of the pixels keep
their label). This happens with mmedge's exporter and with mmdeploy's (its 1.3.1 rewriters do
not cover ``Upsample``).

:func:`upsample_forward` gives the same result in PyTorch, bit for bit, and a size-agnostic
graph: for an integer ``scale_factor`` it calls ``F.interpolate(x, scale_factor=...)``, whose
output size ``floor(t * s)`` equals ``int(t * s)`` and whose source coordinates (``1 / s`` per
output pixel, or the corner rule with ``align_corners=True``) equal those PyTorch derives from
the size. A fixed ``size`` or a non-integer factor keeps mmseg's code (a fixed size is static
anyway; a non-integer factor is frozen at the export size, with a warning while tracing).

* :func:`trace_safe_upsample` patches mmseg's ``Upsample.forward`` for the duration of a block
  (mmedge's :func:`mmedge.utils.onnx_export.onnx_export` exports inside it).
* ``mmedge.utils.mmdeploy_rewriters`` registers the same forward as an mmdeploy function
  rewriter (imported by the deploy configs in ``tools/deployment/mmdeploy_configs``).

:func:`softmax_nms_pre_warning` is the text of that module's guard for mmdeploy's pre-selection
of softmax-head (SSD) candidates (here so that it is testable without mmdeploy).
"""
import contextlib
import warnings
from typing import Callable, Optional

import torch
import torch.nn.functional as F

__all__ = ['upsample_forward', 'trace_safe_upsample', 'mmseg_upsample_class',
           'softmax_nms_pre_warning']


def mmseg_upsample_class() -> Optional[type]:
    """mmseg's ``Upsample`` module class, or ``None`` without mmseg."""
    try:
        from mmseg.models.utils import Upsample
    except ImportError:
        return None
    return Upsample


def _integer_factor(scale_factor) -> bool:
    return (isinstance(scale_factor, (int, float)) and not isinstance(scale_factor, bool)
            and float(scale_factor).is_integer() and scale_factor >= 1)


def upsample_forward(module: torch.nn.Module, x: torch.Tensor,
                     original: Callable) -> torch.Tensor:
    """mmseg ``Upsample.forward`` without a traced ``int()``; ``original(module, x)`` otherwise."""
    if not module.size and _integer_factor(module.scale_factor):
        return F.interpolate(x, scale_factor=float(module.scale_factor), mode=module.mode,
                             align_corners=module.align_corners)
    if not module.size and torch.jit.is_tracing():
        warnings.warn(
            f'mmseg Upsample with scale_factor={module.scale_factor!r}: the traced graph keeps '
            'the output size of the export input; run it at that size only')
    return original(module, x)


@contextlib.contextmanager
def trace_safe_upsample():
    """mmseg's ``Upsample.forward`` is :func:`upsample_forward` inside the block (restored)."""
    cls = mmseg_upsample_class()
    if cls is None:
        yield
        return
    original = cls.__dict__['forward']

    def forward(self, x):
        return upsample_forward(self, x, original)

    cls.forward = forward
    try:
        yield
    finally:
        cls.forward = original


def softmax_nms_pre_warning(head, cls_scores) -> str:
    """The warning for a softmax head whose ``nms_pre`` is below a level's anchors, or ''."""
    cfg = head.test_cfg or {}
    nms_pre = cfg.get('nms_pre', -1)
    if getattr(head, 'use_sigmoid_cls', True) or nms_pre is None or nms_pre <= 0:
        return ''
    anchors = [int(c.shape[1]) // head.cls_out_channels * int(c.shape[2]) * int(c.shape[3])
               for c in cls_scores]
    if max(anchors) <= nms_pre:
        return ''
    return (f'{type(head).__name__}: mmdeploy 1.3.1 pre-selects the nms_pre={nms_pre} anchors '
            'per level by the best score of all foreground classes but the last (its softmax '
            'branch drops the last column twice); levels here have up to '
            f'{max(anchors)} anchors, so the exported detections differ from PyTorch\'s. '
            'Export and test with --cfg-options '
            f'model.test_cfg.nms_pre={max(anchors)} (no pre-selection, in both) to agree, '
            'or accept the difference.')
