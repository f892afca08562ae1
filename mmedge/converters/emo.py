"""Convert the authors' EMO checkpoints (``zhangzjn/EMO``) to :class:`mmedge.models.EMO` keys.

Two official formats are accepted:

* classification (``model/emo.py``): ``stage0.*`` ... ``stage4.*``, ``norm.norm.*`` (final
  LayerNorm2d) and ``head.*`` (Linear);
* detection / segmentation (the mmdet / mmseg ``EMO`` backbone in ``down-stream-tasks``): the same
  backbone keys, bare or under ``backbone.`` inside a detector / segmentor checkpoint whose
  ``neck.*``, ``bbox_head.*``, ``decode_head.*``, ``auxiliary_head.*`` keys are dropped.

Key map (official -> mmedge)::

    stage0.0.convs.0.0.*            -> stem.conv.conv.*        (3x3 s2 conv, bias)
    stage0.0.convs.0.1.*            -> stem.conv.norm.*        (BN)
    stage0.1.*                      -> stem.block.*            (iRMB with SE)
    stage{i}.{j}.*                  -> stages.{i-1}.{j}.*
    *.norm.norm.*                   -> *.norm.*                (LayerNorm2d wrapper)
    *.{qk,v,proj}.conv.*            -> *.{qk,v,proj}.*         (plain 1x1 convs)
    norm.norm.*, head.*             -> head.norm.*, head.fc.*  (keep_head=True, EMOClsHead)
"""
from typing import Dict

import torch

from ._registry import register_converter
from ._utils import drop_keys, rename_keys, unwrap

__all__ = ['convert_emo']

# Applied in order to every key; already-converted keys match no rule (idempotent).
_BACKBONE_RULES = (
    (r'^backbone\.', ''),
    (r'^stage0\.0\.convs\.0\.0\.', 'stem.conv.conv.'),
    (r'^stage0\.0\.convs\.0\.1\.', 'stem.conv.norm.'),
    (r'^stage0\.1\.', 'stem.block.'),
    (r'^stage1\.', 'stages.0.'),
    (r'^stage2\.', 'stages.1.'),
    (r'^stage3\.', 'stages.2.'),
    (r'^stage4\.', 'stages.3.'),
    (r'^(stages\.\d+\.\d+)\.norm\.norm\.', r'\1.norm.'),
    (r'^(stages\.\d+\.\d+|stem\.block)\.(qk|v|proj)\.conv\.', r'\1.\2.'),
)

# The official classifier head -> mmedge EMOClsHead inside an mmpretrain ImageClassifier.
_HEAD_RULES = (
    (r'^norm\.norm\.', 'head.norm.'),
    (r'^head\.(weight|bias)$', r'head.fc.\1'),
    (r'^(stem|stages)\.', r'backbone.\1.'),
)

# Everything that is neither the backbone nor (with keep_head) the classifier head:
# detector / segmentor necks and heads, mmengine's data_preprocessor.
_NOT_BACKBONE = (r'^(?!stem\.|stages\.)', )
_NOT_CLASSIFIER = (r'^(?!backbone\.|head\.norm\.|head\.fc\.)', )


@register_converter('emo')
def convert_emo(state_dict: Dict[str, torch.Tensor],
                keep_head: bool = False) -> Dict[str, torch.Tensor]:
    """Map an official EMO state dict (or checkpoint) to mmedge keys.

    Args:
        state_dict (dict): An official classification or detection / segmentation state
            dict, or a whole checkpoint (``model_ema`` / ``model`` / ``state_dict`` are
            unwrapped), or an already converted one (returned unchanged).
        keep_head (bool): Also map the classifier (``norm`` + ``head``) to the keys of an
            mmpretrain ``ImageClassifier`` with ``EMOClsHead`` (``backbone.*``,
            ``head.norm.*``, ``head.fc.*``). When False the backbone keys come back
            without a prefix and the head is dropped. Defaults to False.

    Returns:
        dict: The converted state dict.
    """
    sd = unwrap(state_dict)
    # ``backbone.``-prefixed keys of a converted classifier pass the rules unchanged.
    sd = rename_keys(sd, _BACKBONE_RULES)
    if not keep_head:
        return drop_keys(sd, _NOT_BACKBONE)
    sd = rename_keys(sd, _HEAD_RULES)
    return drop_keys(sd, _NOT_CLASSIFIER)
