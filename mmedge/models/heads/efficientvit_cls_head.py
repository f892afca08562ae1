"""The EfficientViT classification head (MobileNetV3 style) for mmpretrain."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmpretrain.models.heads import ClsHead

from mmedge.registry import MODELS
from ..layers import ConvNormAct, build_act_layer, build_norm_layer

__all__ = ['EfficientViTClsHead']


@MODELS.register_module()
class EfficientViTClsHead(ClsHead):
    """1x1 conv + norm + act -> global average pool -> Linear + norm + act -> Linear.

    The official ``ClsHead`` of MIT's EfficientViT B/L-series (`official repo
    <https://github.com/mit-han-lab/efficientvit/tree/de7d7733cc0329f391b33f1f459271562ec27bd5>`_,
    ``efficientvit/models/efficientvit/cls.py``, Apache-2.0) and, with
    ``hidden_norm_cfg=None, hidden_bias=True``, the MobileNetV3-style head assumed for the
    paper's EfficientViT-Base. It takes the backbone's last feature map
    (put ``out_indices=(3, )`` on the backbone; no neck).

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the last feature map.
        mid_channels (Sequence[int]): Widths of the 1x1 conv and of the hidden Linear,
            e.g. (1024, 1280) for b0.
        norm_cfg (dict): Norm of the 1x1 conv. Defaults to ``dict(type='BN', eps=1e-5)``.
        act_cfg (dict): Activation after the conv and the hidden Linear. Defaults to
            ``dict(type='Hardswish', inplace=True)``.
        hidden_norm_cfg (dict, optional): Norm of the hidden Linear. Defaults to
            ``dict(type='LN', eps=1e-5)`` (official).
        hidden_bias (bool): Bias of the hidden Linear (official: none, the LN follows).
            Defaults to False.
        dropout (float): Dropout before the last Linear. Defaults to 0.
        init_cfg (dict | list[dict], optional): None gives the authors' init
            (trunc-normal 0.02, zero biases, unit norms). Defaults to None.
        **kwargs: ``loss``, ``topk``, ``cal_acc`` of :class:`mmpretrain.models.heads.ClsHead`.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 mid_channels: Sequence[int],
                 norm_cfg: dict = dict(type='BN', eps=1e-5),
                 act_cfg: dict = dict(type='Hardswish', inplace=True),
                 hidden_norm_cfg: Optional[dict] = dict(type='LN', eps=1e-5),
                 hidden_bias: bool = False,
                 dropout: float = 0.,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        if init_cfg is None:
            init_cfg = [
                dict(
                    type='TruncNormal',
                    layer=['Conv2d', 'Linear'],
                    std=0.02,
                    bias=0.),
                dict(
                    type='Constant',
                    layer=['_BatchNorm', 'LayerNorm'],
                    val=1.,
                    bias=0.)
            ]
        super().__init__(init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(f'num_classes={num_classes} must be positive')
        if len(mid_channels) != 2:
            raise ValueError(f'mid_channels needs 2 widths, got '
                             f'{mid_channels!r}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.in_conv = ConvNormAct(
            in_channels,
            mid_channels[0],
            1,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.hidden = nn.Linear(
            mid_channels[0], mid_channels[1], bias=hidden_bias)
        self.hidden_norm = build_norm_layer(hidden_norm_cfg, mid_channels[1])
        self.act = build_act_layer(act_cfg)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(mid_channels[1], num_classes)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The hidden features before the classifier Linear, ``(N, mid_channels[1])``."""
        x = self.in_conv(feats[-1]).mean((2, 3))  # (N, C, H, W) -> (N, C)
        return self.act(self.hidden_norm(self.hidden(x)))

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self.fc(self.dropout(self.pre_logits(feats)))
