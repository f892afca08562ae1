"""EfficientViT-Base of the first EfficientViT paper (MIT; not Microsoft's EfficientViT).

The released code and weights of MIT's EfficientViT implement a later design (B/L series with
multi-scale LiteMLA): see :class:`mmedge.models.backbones.EfficientViT`. This module implements
the model the first paper describes, which has no official code: where the paper is silent, the
choices below were calibrated against its reported MACs (406M at 224x224 with the classifier).
"""
from typing import Callable, List, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmedge.registry import MODELS
from mmedge.utils.typing import OptMultiConfig
from ..layers import (NORM_TYPES, ConvNormAct, DropPath, build_act_layer,
                      build_layout_norm, drop_path_rates, init_trunc_normal,
                      layer_norm_last)
from .base import BaseEdgeBackbone
from .efficientvit import DSConv, MBConv

__all__ = [
    'EfficientViTPaper', 'relu_linear_attention', 'ShortcutMBConv',
    'ReLULinearAttention', 'DWConvFFN', 'EfficientViTPaperBlock'
]


def relu_linear_attention(q: torch.Tensor,
                          k: torch.Tensor,
                          v: torch.Tensor,
                          eps: float = 1e-15) -> torch.Tensor:
    """ReLU linear attention, Eq. (4) of the paper, in O(N) time and memory.

    ``out_i = relu(q_i) (sum_j relu(k_j)^T v_j) / (relu(q_i) sum_j relu(k_j)^T + eps)``; the
    N x N map is never formed. A query with no positive entry gives zeros.

    Args:
        q, k, v (torch.Tensor): ``(B, N, heads, d)``.
        eps (float): Added to the denominator. Defaults to 1e-15.

    Returns:
        torch.Tensor: ``(B, N, heads, d)``.
    """
    q = F.relu(q)
    k = F.relu(k)
    # a column of ones on v yields the denominator in the same contraction
    v = F.pad(v, (0, 1), mode='constant', value=1.)
    kv = torch.einsum('bnhd,bnhe->bhde', k, v)  # (B, heads, d, d + 1)
    out = torch.einsum('bnhd,bhde->bnhe', q, kv)  # (B, N, heads, d + 1)
    return out[..., :-1] / (out[..., -1:] + eps)


def _to_tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> contiguous (B, H, W, C)."""
    return x.permute(0, 2, 3, 1).contiguous()


def _to_maps(x: torch.Tensor) -> torch.Tensor:
    """(B, H, W, C) -> contiguous (B, C, H, W)."""
    return x.permute(0, 3, 1, 2).contiguous()


class ShortcutMBConv(MBConv):
    """MBConv (1x1 expand, kxk depthwise, 1x1 project) with the paper's shortcuts.

    The B-series :class:`~mmedge.models.backbones.efficientvit.MBConv` (BN after every conv)
    plus the shortcut.

    A stride-2 block adds ``conv1x1(avgpool2x2(x))`` (the paper's "downsampling shortcut");
    a stride-1 block with equal widths adds ``x``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): 1 or 2. Defaults to 1.
        expand_ratio (float): Hidden width = ``round(in_channels * expand_ratio)``.
            Defaults to 4.
        kernel_size (int): Depthwise kernel. Defaults to 5.
        norm_cfg (dict): Norm after each conv. Defaults to ``dict(type='BN', eps=1e-5)``.
        act_cfg (dict): Activation after expand and depthwise. Defaults to
            ``dict(type='Hardswish', inplace=True)``.
        drop_path_rate (float): Stochastic depth of an identity residual. Defaults to 0.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 expand_ratio: float = 4,
                 kernel_size: int = 5,
                 norm_cfg: dict = dict(type='BN', eps=1e-5),
                 act_cfg: dict = dict(type='Hardswish', inplace=True),
                 drop_path_rate: float = 0.) -> None:
        super().__init__(in_channels, out_channels, stride, expand_ratio,
                         kernel_size, False, norm_cfg, act_cfg,
                         drop_path_rate)
        if self.residual:
            self.shortcut = None
        else:
            # ceil_mode matches the depthwise conv's ceil(H / 2) on odd sizes; the partial
            # windows at the border average the pixels they cover
            self.shortcut = nn.Sequential(
                nn.AvgPool2d(stride, stride, ceil_mode=True)
                if stride > 1 else nn.Identity(),
                nn.Conv2d(in_channels, out_channels, 1, bias=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.shortcut is None:
            return super().forward(x)
        y = self.point_conv(self.depth_conv(self.inverted_conv(x)))
        return y + self.shortcut(x)


class ReLULinearAttention(nn.Module):
    """Global multi-head ReLU linear attention on ``(B, H, W, C)`` tokens.

    Args:
        channels (int): Token channels C.
        num_heads (int): Number of heads.
        head_dim (int): Key / value dimension per head. Defaults to 16.
        eps (float): Denominator epsilon (computed in float32). Defaults to 1e-15.
    """

    def __init__(self,
                 channels: int,
                 num_heads: int,
                 head_dim: int = 16,
                 eps: float = 1e-15) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.eps = eps
        self.qkv = nn.Linear(channels, 3 * num_heads * head_dim)
        self.proj = nn.Linear(num_heads * head_dim, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, H, W, _ = x.shape
        # (B, H, W, C) -> (B, HW, 3, heads, d)
        qkv = self.qkv(x).reshape(B, H * W, 3, self.num_heads, self.head_dim)
        # fp32 island: the sums over all tokens overflow fp16 at high resolution
        with torch.autocast(device_type=x.device.type, enabled=False):
            qkv = qkv.float()
            out = relu_linear_attention(qkv[:, :, 0], qkv[:, :, 1],
                                        qkv[:, :, 2], self.eps)
        return self.proj(out.to(x.dtype).reshape(B, H, W, -1))


class DWConvFFN(nn.Module):
    """FFN with a depthwise conv in the middle: fc1 -> act -> dw kxk -> act -> fc2.

    Args:
        channels (int): Token channels C.
        expand_ratio (float): Hidden width = ``round(C * expand_ratio)``. Defaults to 4.
        kernel_size (int): Depthwise kernel. Defaults to 5.
        act_cfg (dict): Activation. Defaults to ``dict(type='Hardswish', inplace=True)``.
    """

    def __init__(
        self,
        channels: int,
        expand_ratio: float = 4,
        kernel_size: int = 5,
        act_cfg: dict = dict(type='Hardswish', inplace=True)
    ) -> None:
        super().__init__()
        hidden = round(channels * expand_ratio)
        self.fc1 = nn.Linear(channels, hidden)
        self.dw = nn.Conv2d(
            hidden,
            hidden,
            kernel_size,
            padding=kernel_size // 2,
            groups=hidden)
        self.fc2 = nn.Linear(hidden, channels)
        self.act = build_act_layer(act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.fc1(x))
        # (B, H, W, C') viewed as NCHW (channels-last strides, no copy) and back
        x = self.act(self.dw(x.permute(0, 3, 1, 2))).permute(0, 2, 3, 1)
        return self.fc2(x)


class EfficientViTPaperBlock(nn.Module):
    """Pre-norm block on ``(B, H, W, C)``: ``x + attn(LN(x))``, ``x + ffn(LN(x))``.

    Args:
        channels (int): Channels C.
        num_heads (int): Attention heads.
        head_dim (int): Channels per head. Defaults to 16.
        expand_ratio (float): FFN expansion. Defaults to 4.
        kernel_size (int): FFN depthwise kernel. Defaults to 5.
        norm_cfg (dict): A LayerNorm config, applied over C. Defaults to
            ``dict(type='LN', eps=1e-5)``.
        act_cfg (dict): FFN activation. Defaults to ``dict(type='Hardswish', inplace=True)``.
        drop_path_rate (float): Stochastic depth of both branches. Defaults to 0.
    """

    def __init__(self,
                 channels: int,
                 num_heads: int,
                 head_dim: int = 16,
                 expand_ratio: float = 4,
                 kernel_size: int = 5,
                 norm_cfg: dict = dict(type='LN', eps=1e-5),
                 act_cfg: dict = dict(type='Hardswish', inplace=True),
                 drop_path_rate: float = 0.) -> None:
        super().__init__()
        self.norm1, self.norm2 = (build_layout_norm(
            norm_cfg,
            channels,
            channels_last=True,
            owner='EfficientViTPaper',
            what='attn_norm_cfg') for _ in range(2))
        self.attn = ReLULinearAttention(channels, num_heads, head_dim)
        self.ffn = DWConvFFN(channels, expand_ratio, kernel_size, act_cfg)
        self.drop_path = DropPath(drop_path_rate) \
            if drop_path_rate > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(layer_norm_last(self.norm1, x)))
        return x + self.drop_path(self.ffn(layer_norm_last(self.norm2, x)))


@MODELS.register_module()
class EfficientViTPaper(BaseEdgeBackbone):
    """EfficientViT-Base of the first paper version (MIT HAN Lab; not Microsoft's EfficientViT).

    A PyTorch implementation of EfficientViT-Base from `EfficientViT: Enhanced Linear Attention
    for High-Resolution Low-Computation Visual Recognition <https://arxiv.org/abs/2205.14756v1>`_.
    There is no official code for this model (`mit-han-lab/efficientvit
    <https://github.com/mit-han-lab/efficientvit>`_ implements the later B/L design, see
    :class:`EfficientViT`); it is written from the paper, and its acceptance target is the
    paper's MACs: 406M at 224x224 for ``base`` and 584M for ``base_w1.2``, with the classifier
    of ``configs/efficientvit/cls_efficientvit_base_in1k.py`` (tested within 5%).

    Layout: stem (3x3/s2 conv + BN + hswish, one residual DSConv 3x3) -> 4 stages, each a
    stride-2 :class:`ShortcutMBConv` followed by ``depths[i]`` blocks: residual MBConvs in
    stages 0-1 (BN), :class:`EfficientViTPaperBlock` in stages 2-3 (LN, ReLU linear attention,
    FFN with a depthwise conv). Outputs are the four stage maps at strides 4/8/16/32 (the
    paper's P2/P3/P4 are ``out_indices`` 1/2/3). Every op pads, so any input size works: each
    stride-2 step rounds up (250x330 gives 63x83, 32x42, 16x21, 8x11).

    Decisions where the paper is silent (the spec's ambiguity list in brackets):

    * [A1] strides 2 (stem) and 2 per stage. [A2] every stage is a stride-2 MBConv plus
      ``depths[i]`` blocks (the only reading that reproduces the MACs). [A3] the stem is a
      3x3/s2 conv and one residual depthwise-separable conv (3x3).
    * [A4] Q/K/V are one Linear C -> 3 x heads x 16 (heads x 16 = 2C: 12 / 24 heads for
      96 / 192 channels), output Linear 2C -> C, both with bias. [A5] eps 1e-15, attention in
      float32 with autocast disabled. [A6] no scaling (it would cancel). [A22] no positional
      encoding; the attention is global over the stage's tokens.
    * [A7] pre-norm residuals, LayerNorm over channels. [A9] FFN: Linear C -> 4C, hswish,
      5x5 depthwise (with bias), hswish, Linear 4C -> C; no norm inside.
    * [A8] the stride-2 entry MBConv of stages 2-3 uses ``norm_cfg`` (BN, foldable) rather
      than LN; the LayerNorms are in the attention blocks (``attn_norm_cfg``).
    * [A10] downsampling shortcut: 2x2 average pooling (ceil mode) and a 1x1 conv with bias, on
      every stride-2 MBConv (not the stem). [A11] MBConv hidden = 4 x C_in, kernel 5, hswish
      after expand and depthwise, linear projection, no SE.
    * [A13] ``base_w1.2`` multiplies every width by 1.2 and rounds like MobileNetV2
      (``make_divisible(c, 8)``): (24, 32, 56, 112, 232); head_dim stays 16, heads = 2C / 16.
    * The initialisation is the one of the authors' later code (trunc-normal 0.02 for
      conv / linear weights, zero biases, unit norms).
    * [A12] The paper's 7.9M / 10.9M parameters are not reproduced by any reading: this
      gives 2.30M / 3.24M for the backbone, 5.83M / 7.95M with the classifier; MACs are the
      target (406.8M / 589.8M at 224, 299.8M for ``base`` at 192; paper 406M / 584M / 304M).
    * Hardswish runs in place (same numbers, one copy less).

    ``switch_to_deploy()`` folds every BatchNorm (stem and all MBConvs) into its conv;
    LayerNorms stay (no exact fold exists).

    Args:
        arch (str | dict): ``'base'``, ``'base_w1.2'`` (alias ``'base-w1.2'``) or a dict with
            ``widths`` (5 ints, stem first), ``depths`` (4), ``num_heads`` (4; 0 = an MBConv
            stage), ``head_dim``, ``expand_ratio`` and ``kernel_size``. Defaults to 'base'.
        in_channels (int): Input channels. Defaults to 3.
        out_indices (int | Sequence[int]): Stages to output. Defaults to (0, 1, 2, 3).
        frozen_stages (int): -1 none, 0 the stem, k the stem and stages 0..k-1.
            Defaults to -1.
        norm_eval (bool): Keep BatchNorms in eval mode during training. Defaults to False.
        drop_path_rate (float): Stochastic depth, linear over the stride-1 blocks.
            Defaults to 0.
        norm_cfg (dict): Norm of the conv blocks. Defaults to ``dict(type='BN', eps=1e-5)``.
        attn_norm_cfg (dict): LayerNorm of the attention blocks. Defaults to
            ``dict(type='LN', eps=1e-5)``.
        act_cfg (dict): Activation everywhere. Defaults to
            ``dict(type='Hardswish', inplace=True)``.
        with_cp (bool): Gradient checkpointing per block. Defaults to False.
        deploy (bool): Build the fused form of ``switch_to_deploy()`` directly (loads fused
            state dicts strictly). Defaults to False.
        output_stride (int): Only 32: this family has no exact dilated form (see
            :class:`BaseEdgeBackbone`). Defaults to 32.
        init_cfg (dict | list[dict], optional): See :class:`BaseEdgeBackbone`.
            Defaults to None.

    Example:
        >>> import torch
        >>> from mmedge.models.backbones import EfficientViTPaper
        >>> model = EfficientViTPaper(arch='base').eval()
        >>> with torch.no_grad():
        ...     outs = model(torch.rand(1, 3, 224, 224))
        >>> for out in outs:
        ...     print(tuple(out.shape))
        (1, 24, 56, 56)
        (1, 48, 28, 28)
        (1, 96, 14, 14)
        (1, 192, 7, 7)
    """
    arch_settings = {
        'base':
        dict(
            widths=(16, 24, 48, 96, 192),
            depths=(2, 3, 5, 2),
            num_heads=(0, 0, 12, 24),
            head_dim=16,
            expand_ratio=4,
            kernel_size=5),
        'base_w1.2':
        dict(
            widths=(24, 32, 56, 112, 232),
            depths=(2, 3, 5, 2),
            num_heads=(0, 0, 14, 29),
            head_dim=16,
            expand_ratio=4,
            kernel_size=5),
    }
    arch_aliases = {'base-w1.2': 'base_w1.2'}

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 drop_path_rate: float = 0.,
                 norm_cfg: dict = dict(type='BN', eps=1e-5),
                 attn_norm_cfg: dict = dict(type='LN', eps=1e-5),
                 act_cfg: dict = dict(type='Hardswish', inplace=True),
                 with_cp: bool = False,
                 deploy: bool = False,
                 output_stride: int = 32,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(arch, in_channels, out_indices, frozen_stages,
                         norm_eval, with_cp, deploy, output_stride, init_cfg)
        a = self.arch
        widths, depths, heads = (tuple(a['widths']), tuple(a['depths']),
                                 tuple(a['num_heads']))
        if len(widths) != 5 or len(depths) != 4 or len(heads) != 4:
            raise ValueError(
                f'EfficientViTPaper: arch needs 5 widths (stem first), 4 depths '
                f'and 4 num_heads; got {widths}, {depths}, {heads}')
        e, k, d = a['expand_ratio'], a['kernel_size'], a['head_dim']
        self.out_channels = widths[1:]
        self._token_stages = tuple(h > 0 for h in heads)

        stem_c = widths[0]
        self.stem = nn.Sequential(
            ConvNormAct(
                in_channels,
                stem_c,
                3,
                stride=2,
                bias=False,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg), DSConv(stem_c, 3, norm_cfg, act_cfg))

        rates = drop_path_rates(depths, drop_path_rate)
        self.stages = nn.ModuleList()
        for i in range(4):
            c_in, c = widths[i], widths[i + 1]
            blocks = [ShortcutMBConv(c_in, c, 2, e, k, norm_cfg, act_cfg)]
            for r in rates[i]:
                if heads[i] > 0:
                    blocks.append(
                        EfficientViTPaperBlock(c, heads[i], d, e, k,
                                               attn_norm_cfg, act_cfg, r))
                else:
                    blocks.append(
                        ShortcutMBConv(c, c, 1, e, k, norm_cfg, act_cfg, r))
            self.stages.append(nn.Sequential(*blocks))
        self._finish_init()

    def _stage_blocks(self, i: int) -> List[Callable]:
        stage = list(self.stages[i])
        if not self._token_stages[i]:
            return stage
        # the attention blocks work on (B, H, W, C) tokens for LN / Linear
        return [stage[0], _to_tokens] + stage[1:] + [_to_maps]

    def _official_init(self) -> None:
        # the authors' later code: trunc-normal(0.02) conv / Linear, zero biases, unit norms
        init_trunc_normal(self, norm_types=NORM_TYPES)
