"""Convert MIT HAN Lab EfficientViT (B/L-series) checkpoints to :class:`mmedge.EfficientViT` keys.

Official layout (``efficientvit/models/efficientvit/{backbone,cls}.py``): the B-series backbone
keys are ``backbone.input_stem.op_list.{i}[.main].*`` and ``backbone.stages.{s}.op_list.{j}.*``
with ``ResidualBlock`` wrappers (``.main.``, ``.context_module.main.``, ``.local_module.main.``);
the L-series has the stem as ``backbone.stages.0`` and the stages as ``stages.1-4``; the
classifier is ``head.op_list.{0,2,3}``. Segmentation checkpoints share the backbone keys; their
``head.*`` keys are dropped.
"""
import re
from typing import Dict

import torch

from ._registry import register_converter
from ._utils import rename_keys, unwrap

__all__ = ['convert_efficientvit']

# L-series (EfficientViTLargeBackbone): ``stages.0`` is the stem and ``stages.1-4`` the four
# stages; mapped onto the B-series names first (only official keys contain ``op_list``)
_LARGE_RULES = (
    (r'^stages\.0\.op_list\.', 'input_stem.op_list.'),
    (r'^stages\.1\.op_list\.', 'stages.0.op_list.'),
    (r'^stages\.2\.op_list\.', 'stages.1.op_list.'),
    (r'^stages\.3\.op_list\.', 'stages.2.op_list.'),
    (r'^stages\.4\.op_list\.', 'stages.3.op_list.'),
)

# (pattern, replacement); converted keys never match a pattern again (idempotent)
_BACKBONE_RULES = (
    (r'^input_stem\.op_list\.(\d+)\.(main\.)?', r'stem.\1.'),
    (r'^stages\.(\d+)\.op_list\.(\d+)\.(main\.)?', r'stages.\1.\2.'),
    (r'\.(context_module|local_module)\.main\.', r'.\1.'),
    (r'\.context_module\.qkv\.conv\.', r'.context_module.qkv.'),
)

# ClsHead(op_list = [ConvLayer, GAP, LinearLayer(+LN+act), LinearLayer]) -> EfficientViTClsHead
_HEAD_RULES = (
    (r'^head\.op_list\.0\.', r'head.in_conv.'),
    (r'^head\.op_list\.2\.linear\.', r'head.hidden.'),
    (r'^head\.op_list\.2\.norm\.', r'head.hidden_norm.'),
    (r'^head\.op_list\.3\.linear\.', r'head.fc.'),
)


@register_converter('efficientvit')
def convert_efficientvit(state_dict: dict,
                         keep_head: bool = False) -> Dict[str, torch.Tensor]:
    """Map an official EfficientViT B- or L-series state dict to mmedge keys.

    Args:
        state_dict (dict): The authors' state dict, a full checkpoint holding one
            (``state_dict`` / ``model`` / ``model_ema``), or an already converted dict.
        keep_head (bool): False returns backbone keys without a prefix and drops the head.
            True returns the keys of the mmpretrain ``ImageClassifier`` of
            ``configs/efficientvit/cls_efficientvit_*_in1k.py`` (``backbone.*`` and ``head.*`` of
            :class:`EfficientViTClsHead`). Defaults to False.

    Returns:
        dict: The converted state dict.
    """
    sd = unwrap(state_dict)
    backbone, head = {}, {}
    for key, value in sd.items():
        if key.startswith('head.'):
            head[key] = value
        else:
            backbone[re.sub(r'^backbone\.', '', key)] = value
    if any(k.startswith('stages.4.op_list.') for k in backbone):
        backbone = rename_keys(backbone, _LARGE_RULES)
    out = rename_keys(backbone, _BACKBONE_RULES)
    if not keep_head:
        return out
    out = {f'backbone.{k}': v for k, v in out.items()}
    out.update(rename_keys(head, _HEAD_RULES))
    return out
