"""The segmentation head of the first EfficientViT paper (Fast-SCNN style), for mmseg."""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import (ConvModule, DepthwiseSeparableConvModule,
                      build_activation_layer)
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize

from mmedge.registry import MODELS

__all__ = ['EfficientViTSegHead']


@MODELS.register_module()
class EfficientViTSegHead(BaseDecodeHead):
    """Fuses a stride-8 and a stride-32 feature map, then a few light convs (EfficientViT-Seg).

    The head of EfficientViT-Seg from `EfficientViT: Enhanced Linear Attention for
    High-Resolution Low-Computation Visual Recognition <https://arxiv.org/abs/2205.14756v1>`_
    (MIT HAN Lab): "we fuse P2 and P4. The fused feature is fed to a lightweight head
    comprising several convolution layers, following Fast-SCNN". The paper gives nothing
    more, and no code was released for it (the authors' later EfficientViT-Seg models use a
    different head). The layout below is the feature fusion module and classifier of
    `Fast-SCNN <https://arxiv.org/abs/1902.04502>`_ with the paper's activation:

    * high-resolution branch (stride 8, ``in_channels[0]``): 1x1 conv + norm, no activation;
    * low-resolution branch (stride 32, ``in_channels[1]``): bilinear upsampling to the
      stride-8 size, 3x3 depthwise conv with dilation ``lower_dilation`` + norm + act, then
      1x1 conv to ``channels`` + norm, no activation;
    * the two are added, then act;
    * ``num_convs`` depthwise-separable 3x3 convs (depthwise + norm + act, pointwise + norm +
      act), dropout, 1x1 conv to ``num_classes``. mmseg upsamples the logits to the input.

    Decisions where the paper is silent (spec ``efficientvit.md`` §3.2 and A15): add-fusion,
    128 channels, 2 separable convs, dilation 4 and hardswish (the backbone's activation).
    At 1024x2048 with EfficientViT-Base this head costs 2.4 GMACs (72k parameters), within
    the 2.7G the paper's 19.1G total leaves after the backbone (spec §2.7); the segmentor
    counts 19.2G.

    Args:
        in_channels (Sequence[int]): Channels of the (stride-8, stride-32) inputs, e.g.
            ``(48, 192)`` for EfficientViT-Base.
        channels (int): Width of the fusion and of the separable convs. Fast-SCNN: 128.
        in_index (Sequence[int]): Backbone outputs of the two inputs, high-resolution
            first. Defaults to (1, 3): strides 8 and 32 of an mmedge backbone with
            ``out_indices=(0, 1, 2, 3)``.
        num_convs (int): Depthwise-separable convs after the fusion. Defaults to 2.
        lower_dilation (int): Dilation of the depthwise conv on the upsampled stride-32
            branch (Fast-SCNN: the upsampling factor, 4). Defaults to 4.
        act_cfg (dict): Activation, built by mmcv (whose ``HSwish`` is ``nn.Hardswish``).
            Defaults to ``dict(type='HSwish')``.
        **kwargs: The other arguments of :class:`mmseg.models.decode_heads.BaseDecodeHead`
            (``num_classes``, ``norm_cfg``, ``dropout_ratio``, ``align_corners``,
            ``loss_decode``, ...). ``input_transform`` is always ``'multiple_select'``.

    Example:
        >>> import torch
        >>> from mmedge.models.heads import EfficientViTSegHead
        >>> head = EfficientViTSegHead(
        ...     in_channels=(48, 192), channels=128, num_classes=19,
        ...     norm_cfg=dict(type='BN')).eval()
        >>> feats = [torch.rand(1, 24, 64, 64), torch.rand(1, 48, 32, 32),
        ...          torch.rand(1, 96, 16, 16), torch.rand(1, 192, 8, 8)]
        >>> print(tuple(head(feats).shape))
        (1, 19, 32, 32)
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: int,
                 in_index: Sequence[int] = (1, 3),
                 num_convs: int = 2,
                 lower_dilation: int = 4,
                 act_cfg: dict = dict(type='HSwish'),
                 **kwargs) -> None:
        if kwargs.get('input_transform', 'multiple_select') != \
                'multiple_select':
            raise ValueError('EfficientViTSegHead: input_transform is always '
                             "'multiple_select'")
        kwargs.pop('input_transform', None)
        if not isinstance(in_channels, Sequence) or len(in_channels) != 2 \
                or not isinstance(in_index, Sequence) or len(in_index) != 2:
            raise ValueError(
                'EfficientViTSegHead: in_channels and in_index must name two '
                'inputs, (stride 8, stride 32); got in_channels='
                f'{in_channels!r}, in_index={in_index!r}')
        if num_convs < 0 or lower_dilation < 1:
            raise ValueError('EfficientViTSegHead: num_convs must be >= 0 and '
                             'lower_dilation >= 1')
        super().__init__(
            list(in_channels),
            channels,
            in_index=list(in_index),
            input_transform='multiple_select',
            act_cfg=act_cfg,
            **kwargs)
        high_c, low_c = self.in_channels
        common = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg)
        self.higher_res_conv = ConvModule(
            high_c, channels, 1, act_cfg=None, **common)
        self.lower_res_dwconv = ConvModule(
            low_c,
            low_c,
            3,
            padding=lower_dilation,
            dilation=lower_dilation,
            groups=low_c,
            act_cfg=self.act_cfg,
            **common)
        self.lower_res_conv = ConvModule(
            low_c, channels, 1, act_cfg=None, **common)
        self.fusion_act = build_activation_layer(self.act_cfg)
        self.convs = nn.Sequential(*[
            DepthwiseSeparableConvModule(
                channels,
                channels,
                3,
                padding=1,
                act_cfg=self.act_cfg,
                **common) for _ in range(num_convs)
        ])

    def _forward_feature(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        high, low = self._transform_inputs(inputs)
        # (B, C_low, H/32, W/32) -> (B, C_low, H/8, W/8)
        low = resize(
            low,
            size=high.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        low = self.lower_res_conv(self.lower_res_dwconv(low))
        fused = self.fusion_act(self.higher_res_conv(high) + low)
        return self.convs(fused)

    def forward(self, inputs: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        return self.cls_seg(self._forward_feature(inputs))
