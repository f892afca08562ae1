"""Convert the authors' EdgeNeXt checkpoints (github.com/mmaaz60/EdgeNeXt) to mmedge keys.

mmedge's :class:`~mmedge.models.EdgeNeXt` uses mmpretrain's key layout, so the result also
matches mmpretrain's converted checkpoints. Both the LayerNorm and the ``*_bn_hs`` files
convert with the same rules (BN buffers keep their names).
"""
from typing import Dict

import torch

from ._registry import register_converter
from ._utils import drop_keys, rename_keys, unwrap

__all__ = ['convert_edgenext']

# Official -> mmpretrain / mmedge names; no rule matches its own output (idempotent).
_RULES = [
    (r'^(stages\.\d+\.\d+\.)dwconv\.', r'\1depthwise_conv.'),
    (r'^(stages\.\d+\.\d+\.)pwconv([12])\.', r'\1pointwise_conv\2.'),
    (r'^(stages\.\d+\.\d+\.)convs\.', r'\1conv_modules.'),
    (r'^(stages\.\d+\.\d+\.)pos_embd\.token_projection\.',
     r'\1pos_embed.proj.'),
    (r'^(stages\.\d+\.\d+\.)norm_xca\.', r'\1norm_csa.'),
    (r'^(stages\.\d+\.\d+\.)gamma_xca$', r'\1gamma_csa'),
    (r'^(stages\.\d+\.\d+\.)xca\.temperature$', r'\1csa.scale'),
    (r'^(stages\.\d+\.\d+\.)xca\.', r'\1csa.'),
    # the official final norm (GAP -> LN, or BN -> GAP for *_bn_hs) is mmpretrain's
    # ``norm3`` of ``EdgeNeXt(gap_before_final_norm=True, out_indices=(3, ))``
    (r'^norm\.', 'norm3.'),
    (r'^head\.(weight|bias)$', r'head.fc.\1'),  # mmpretrain LinearClsHead
]


@register_converter('edgenext')
def convert_edgenext(state_dict: Dict[str, torch.Tensor],
                     keep_head: bool = False) -> Dict[str, torch.Tensor]:
    """Map an official EdgeNeXt state dict (or checkpoint) to mmedge keys.

    Args:
        state_dict (dict): The authors' state dict, or a checkpoint holding it under
            ``model_ema`` / ``model`` / ``state_dict``. Already converted dicts (and
            mmpretrain / mmedge classifier state dicts) convert to themselves.
        keep_head (bool): False: backbone keys without prefix; the final norm and the
            classifier are dropped. True: the keys of an mmpretrain ``ImageClassifier``
            with ``EdgeNeXt(gap_before_final_norm=True, out_indices=(3, ))`` and a
            ``LinearClsHead``: ``backbone.*`` (the final norm is ``backbone.norm3``)
            and ``head.fc.*``. Defaults to False.

    Returns:
        dict: The converted state dict (same tensors, new keys).
    """
    sd = unwrap(state_dict)
    if any(k.startswith('backbone.') for k in sd):
        # a classifier / detector / segmentor state dict: its backbone (+ cls head)
        sd = {
            (k[len('backbone.'):] if k.startswith('backbone.') else k): v
            for k, v in sd.items() if k.startswith(('backbone.', 'head.fc.'))
        }
    sd = rename_keys(sd, _RULES)
    if not keep_head:
        return drop_keys(sd, [r'head\.', r'norm\d+\.'])
    return {
        (k if k.startswith('head.') else f'backbone.{k}'): v
        for k, v in sd.items()
    }
