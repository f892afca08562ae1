"""mmdeploy function rewriters that keep mmedge's deployable configs dynamic-shape correct.

Importing this module (it needs mmdeploy) registers them; the deploy configs in
``tools/deployment/mmdeploy_configs`` import it through ``custom_imports``, so mmdeploy's
``tools/deploy.py`` and ``mmdeploy.apis.torch2onnx`` pick them up with those configs.

* ``mmseg.models.utils.Upsample.forward`` (the 2x upsampling of ``FPNHead``): mmdeploy 1.3.1
  exports it with the upsampled size of the export input as a constant, so a dynamic-shape
  Semantic FPN graph run at another size is wrong; see :mod:`mmedge.utils.export_rewrites`.

* ``mmdet.models.dense_heads.SSDHead.predict_by_feat``: a guard, not a fix. mmdeploy 1.3.1's
  rewrite of ``BaseDenseHead.predict_by_feat`` pre-selects, per level, the ``nms_pre`` anchors
  with the best foreground score; for a softmax head (SSD / SSDLite) it takes that best score
  over ``scores[..., :-1]`` of scores whose background column is already gone, so the last
  foreground class is left out of the ranking and anchors whose best class is the last one are
  dropped before NMS whenever a level has more than ``nms_pre`` anchors. (mmdet keeps the best
  ``nms_pre`` (anchor, class) pairs; for sigmoid heads mmdeploy's anchors cover those pairs, so
  the best detections agree.) The exported detections then differ from PyTorch's (measured:
  67 % of the best 20 per image on a fixed-seed SSDLite-EdgeNeXt-S at 320 x 320, 100 % with
  ``nms_pre`` >= the anchors of the largest level, where neither pre-selects). The guard warns
  during the export, naming the ``--cfg-options`` that avoids it.

It also makes mmdeploy 1.3.1's rewriter context exit on this torch (:func:`fx_registry_compat`):
without it every detector export ends in ``KeyError: -1`` after the graph is written.
"""
from mmdeploy.core import FUNCTION_REWRITER
from mmdeploy.core.rewriters import function_rewriter as _function_rewriter

import warnings

from .export_rewrites import softmax_nms_pre_warning, upsample_forward


@FUNCTION_REWRITER.register_rewriter(func_name='mmseg.models.utils.Upsample.forward')
def mmseg_upsample__forward(self, x):
    """Upsample by ``scale_factor`` in the graph (same values as mmseg's forward)."""
    ctx = FUNCTION_REWRITER.get_context()
    return upsample_forward(self, x, ctx.origin_func)


@FUNCTION_REWRITER.register_rewriter(
    func_name='mmdet.models.dense_heads.SSDHead.predict_by_feat')
def ssd_head__predict_by_feat(self, cls_scores, *args, **kwargs):
    """Warn about mmdeploy's softmax pre-selection, then mmdeploy's own rewrite."""
    from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
    message = softmax_nms_pre_warning(self, cls_scores)
    if message:
        warnings.warn(message)
    # inside mmdeploy's context the base method is mmdeploy's rewrite
    return BaseDenseHead.predict_by_feat(self, cls_scores, *args, **kwargs)


def fx_registry_compat() -> bool:
    """Let mmdeploy 1.3.1's ``FunctionRewriter.exit`` work with a dict ``torch.fx`` registry.

    ``torch.fx.wrap`` records wrapped functions in ``torch.fx._symbolic_trace.
    _wrapped_fns_to_patch``, on this torch a dict keyed by ``(id(globals), name)``; mmdeploy
    1.3.1 treats it as a list: on exit it pops one entry per entry added while its context was
    open (``pop(-1)``, ``KeyError: -1`` on a dict as soon as a module that calls
    ``torch.fx.wrap`` -- torchvision's ops, timm, mmdeploy's mmdet detectors -- is first
    imported during an export, which every mmdet export does). mmdeploy itself adds nothing to a
    dict registry (its look-up compares the globals with the keys' ids and never matches), so
    nothing it added is to be removed: the patched exit forgets the entries imported modules
    added, then runs mmdeploy's. Returns whether the patch is in place (idempotent; a list
    registry is left to mmdeploy).
    """
    cls = _function_rewriter.FunctionRewriter
    if getattr(cls.exit, '_mmedge_fx_compat', False):
        return True
    if not isinstance(_function_rewriter._wrapped_fns_to_patch, dict):
        return False
    original = cls.exit

    def exit(self):
        self._ori_fx_wrap_num = len(_function_rewriter._wrapped_fns_to_patch)
        return original(self)

    exit._mmedge_fx_compat = True
    cls.exit = exit
    return True


fx_registry_compat()
