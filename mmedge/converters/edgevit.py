"""Official EdgeViT checkpoints (saic-fi/edgevit) -> :class:`mmedge.EdgeViT`.

The official classifier is ``BatchNorm2d`` on the stage-4 map -> mean ->
``Linear``; in mmedge that is ``EdgeViT(final_norm=True)`` (key ``norm.*``)
-> ``GlobalAveragePooling`` -> ``LinearClsHead`` (key ``head.fc.*``).
"""
from typing import Dict

import torch

from ._registry import register_converter
from ._utils import drop_keys, rename_keys, unwrap

__all__ = ['convert_edgevit']

# Authors' key -> mmedge backbone key. Every pattern matches only official
# names, so converted keys pass through unchanged (idempotent).
_BACKBONE_RULES = [
    *[(rf'^patch_embed{i + 1}\.', f'patch_embeds.{i}.') for i in range(4)],
    *[(rf'^blocks{i + 1}\.', f'stages.{i}.') for i in range(4)],
    (r'\.LocalAgg\.pos_embed\.', '.local_agg.cpe.'),
    (r'\.LocalAgg\.conv1\.', '.local_agg.pw_conv1.'),
    (r'\.LocalAgg\.attn\.', '.local_agg.dw_conv.'),
    (r'\.LocalAgg\.conv2\.', '.local_agg.pw_conv2.'),
    (r'\.LocalAgg\.', '.local_agg.'),  # norm1, norm2, mlp.fc1, mlp.fc2
    (r'\.SelfAttn\.pos_embed\.', '.self_attn.cpe.'),
    (r'\.SelfAttn\.attn\.LocalProp\.', '.self_attn.attn.local_prop.'),
    (r'\.SelfAttn\.', '.self_attn.'),
]

# A classifier checkpoint converted with keep_head=True comes back to
# backbone / head keys first, so both modes accept either form.
_UNPREFIX_RULES = [(r'^backbone\.', '')]
_HEAD_PATTERNS = [r'norm\.', r'head\.', r'neck\.']

# ImageClassifier keys: final BN -> backbone.norm (EdgeViT(final_norm=True)),
# Linear -> LinearClsHead.fc.
_CLASSIFIER_RULES = [
    (r'^head\.(?!fc\.)', 'head.fc.'),
    (r'^(?!head\.|neck\.)', 'backbone.'),
]


@register_converter('edgevit')
def convert_edgevit(state_dict: dict,
                    keep_head: bool = False) -> Dict[str, torch.Tensor]:
    """Convert an official EdgeViT state dict or checkpoint to mmedge keys.

    Args:
        state_dict (dict): The authors' state dict, or a checkpoint holding
            it under ``model_ema`` / ``model`` / ``state_dict``.
        keep_head (bool): ``False`` returns backbone keys without a prefix
            and drops the final BatchNorm and the classifier. ``True`` returns
            the keys of the mmpretrain ``ImageClassifier`` of
            ``configs/edgevit/cls_edgevit_*_in1k.py`` (``backbone.*`` with
            ``backbone.norm.*``, ``head.fc.*``). Defaults to False.

    Returns:
        dict: The converted state dict (a new dict; tensors are shared).
    """
    sd = rename_keys(unwrap(state_dict), _UNPREFIX_RULES + _BACKBONE_RULES)
    if not keep_head:
        return drop_keys(sd, _HEAD_PATTERNS)
    return rename_keys(sd, _CLASSIFIER_RULES)
