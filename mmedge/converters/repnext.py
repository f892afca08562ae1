"""Convert the authors' RepNeXt checkpoints (github.com/suous/RepNeXt) to mmedge keys.

Both official forms convert: the training form (``repnext_m*_distill_300e.pth``) and the fused
form written by the authors' ``model.fuse()``. The mmedge layout keeps the official names except
for the stem wrapper (``stem.stem.*`` -> ``stem.*``) and the fused ConvNorms, which stay
``ConvNormAct`` modules (``...channel_mixer.0.weight`` -> ``...channel_mixer.0.conv.weight``).
"""
from typing import Dict

import torch

from ._registry import register_converter
from ._utils import drop_keys, rename_keys, unwrap

__all__ = ['convert_repnext']

# (pattern, replacement); every replacement is a fixed point, so conversion is idempotent.
_BACKBONE_RULES = [
    (r'^backbone\.', ''),
    # fused ConvNorm (a plain conv with bias) -> ConvNormAct.conv
    (r'^stem\.stem\.([02])\.(weight|bias)$', r'stem.\1.conv.\2'),
    (r'^stem\.stem\.', 'stem.'),
    (r'\.channel_mixer\.([02])\.(weight|bias)$', r'.channel_mixer.\1.conv.\2'),
]

# RepNeXtClsHead keeps the official ``head.head`` / ``head.head_dist`` NormLinears; the fused
# classifier (one Linear at ``head``) becomes ``head.head``.
_HEAD_RULES = [
    (r'^head\.(weight|bias)$', r'head.head.\1'),
    (r'^(stem|stages)\.', r'backbone.\1.'),
]


@register_converter('repnext')
def convert_repnext(state_dict: dict,
                    keep_head: bool = False) -> Dict[str, torch.Tensor]:
    """Map an official RepNeXt state dict (training or fused form) to mmedge keys.

    Args:
        state_dict (dict): The official state dict, or a checkpoint holding it under
            ``model`` / ``model_ema`` / ``state_dict`` (``module.`` and ``backbone.`` prefixes
            are stripped).
        keep_head (bool): ``False`` returns the backbone keys of :class:`mmedge.models.RepNeXt`
            without prefix and drops the classifier. ``True`` returns the keys of the mmpretrain
            ``ImageClassifier`` of ``configs/repnext/cls_repnext_*_in1k.py``: ``backbone.*`` and the
            ``head.*`` of ``RepNeXtClsHead``. Defaults to False.

    Returns:
        dict: The converted state dict (same tensors, new keys).
    """
    sd = rename_keys(unwrap(state_dict), _BACKBONE_RULES)
    if keep_head:
        return rename_keys(sd, _HEAD_RULES)
    return drop_keys(sd, [r'^(?!stem\.|stages\.)'])
