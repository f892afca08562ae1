"""The RepNeXt classifier: two BN1d + Linear heads whose outputs are averaged."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmpretrain.models.heads import ClsHead

from mmedge.registry import MODELS
from ..layers import fuse_bn_into_linear

__all__ = ['RepNeXtClsHead']


class _NormLinear(nn.Sequential):
    """BatchNorm1d then Linear (official ``NormLinear``)."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(in_channels)
        self.linear = nn.Linear(in_channels, num_classes)


@MODELS.register_module()
class RepNeXtClsHead(ClsHead):
    """Classification head of RepNeXt (DeiT-style ``head`` + ``head_dist``).

    Both heads are ``BatchNorm1d -> Linear`` on the pooled feature; the output is their mean,
    as in the official model in eval mode and in training without distillation.
    ``switch_to_deploy()`` folds each BN into its Linear and averages the two into one Linear
    (``deploy=True`` builds that layout), as the authors' fused checkpoints store it.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the pooled feature (the last stage's).
        drop_rate (float): Dropout before the heads. Defaults to 0.
        deploy (bool): Build the fused single-Linear layout. Defaults to False.
        loss (dict): Classification loss. Defaults to
            ``dict(type='CrossEntropyLoss', loss_weight=1.0)``.
        topk (int | Sequence[int]): Top-k accuracies in training. Defaults to ``(1, )``.
        cal_acc (bool): Compute training accuracy. Defaults to False.
        init_cfg (dict, optional): Defaults to the official init of the Linear layers:
            ``dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.)``.

    Note:
        The official training with distillation returns both logits for a hard-distillation
        loss against a RegNetY-16GF teacher; mmpretrain has no such loss, so this head always
        returns the mean (the official ``distillation=False`` behaviour).
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        drop_rate: float = 0.,
        deploy: bool = False,
        loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk: Sequence[int] = (1, ),
        cal_acc: bool = False,
        init_cfg: Optional[dict] = dict(
            type='TruncNormal', layer='Linear', std=0.02, bias=0.)
    ) -> None:
        super().__init__(
            loss=loss, topk=topk, cal_acc=cal_acc, init_cfg=init_cfg)
        if num_classes <= 0:
            raise ValueError(f'num_classes={num_classes} must be positive')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.deploy = bool(deploy)
        self.dropout = nn.Dropout(drop_rate) if drop_rate > 0 else \
            nn.Identity()
        if deploy:
            self.head = nn.Linear(in_channels, num_classes)
        else:
            self.head = _NormLinear(in_channels, num_classes)
            self.head_dist = _NormLinear(in_channels, num_classes)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The pooled feature of the last stage, (N, C)."""
        return feats[-1]

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        x = self.dropout(self.pre_logits(feats))
        if self.deploy:
            return self.head(x)
        return (self.head(x) + self.head_dist(x)) / 2

    @torch.no_grad()
    def switch_to_deploy(self) -> None:
        """Fold both BN1d into their Linears and average them into ``head`` (idempotent)."""
        if self.deploy:
            return
        head = fuse_bn_into_linear(self.head.norm, self.head.linear)
        dist = fuse_bn_into_linear(self.head_dist.norm, self.head_dist.linear)
        head.weight.add_(dist.weight).div_(2)
        head.bias.add_(dist.bias).div_(2)
        self.head = head
        del self.head_dist
        self.deploy = True
