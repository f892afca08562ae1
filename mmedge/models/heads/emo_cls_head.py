"""The EMO classifier head for mmpretrain: LayerNorm on the map, global mean, Linear."""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.heads import ClsHead

from mmedge.registry import MODELS

__all__ = ['EMOClsHead']


@MODELS.register_module()
class EMOClsHead(ClsHead):
    """Classification head of EMO: channel LayerNorm of the last map -> mean over H, W -> fc.

    mmpretrain's stock pieces pool first (``GlobalAveragePooling`` + ``LinearClsHead``), but
    EMO normalises every pixel *before* the mean, which does not commute with it.
    State-dict keys: ``norm.{weight,bias}`` (the official ``norm.norm.*``) and
    ``fc.{weight,bias}`` (the official ``head.*``).

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the last backbone map.
        eps (float): LayerNorm epsilon. Defaults to 1e-6 (official).
        init_cfg (dict | list[dict], optional): Defaults to the official
            ``dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.)``.
        **kwargs: ``loss``, ``topk``, ``cal_acc`` of :class:`mmpretrain.models.ClsHead`.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 eps: float = 1e-6,
                 init_cfg=dict(
                     type='TruncNormal', layer='Linear', std=0.02, bias=0.),
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(f'num_classes={num_classes} must be positive')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.norm = nn.LayerNorm(in_channels, eps=eps)
        self.fc = nn.Linear(in_channels, num_classes)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The normalised, pooled features ``(B, C)`` of the last map."""
        x = feats[-1]
        # (B, C, H, W) -> (B, H, W, C): LayerNorm over C, then the mean over H, W
        x = F.layer_norm(
            x.permute(0, 2, 3, 1), self.norm.normalized_shape,
            self.norm.weight, self.norm.bias, self.norm.eps)
        return x.mean((1, 2))

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self.fc(self.pre_logits(feats))
