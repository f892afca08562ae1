"""EfficientViT (MIT HAN Lab): multi-scale ReLU linear attention backbones.

Two families live in mmedge under the EfficientViT name; both are MIT's, neither is Microsoft's
"EfficientViT: Memory Efficient Vision Transformer with Cascaded Group Attention" (timm keeps the
two apart as ``efficientvit_mit`` / ``efficientvit_msra``):

* :class:`EfficientViT` (this file, ``arch`` ``b0``..``b3``): the released design with public
  ImageNet / ADE20K / Cityscapes weights (LiteMLA, BN everywhere).
* :class:`~mmedge.models.backbones.efficientvit_paper.EfficientViTPaper` (``arch`` ``base``,
  ``base_w1.2``): the model of the first arXiv version of the paper (no official code or weights).
"""
from functools import partial
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmedge.registry import MODELS
from mmedge.utils.typing import OptMultiConfig
from ..layers import (NORM_TYPES, ConvNormAct, DropPath, drop_path_rates,
                      init_trunc_normal)
from .base import BaseEdgeBackbone

# (blocks with generic names stay out of ``__all__``: the package re-exports it)
__all__ = ['EfficientViT', 'LiteMLA', 'EfficientViTBlock']


class DSConv(nn.Module):
    """Residual depthwise-separable conv: ``x + pw(dw(x))``.

    The stem block of both EfficientViT designs (dw kxk + norm + act, then 1x1 + norm).

    Args:
        channels (int): Input and output channels.
        kernel_size (int): Depthwise kernel size. Defaults to 3.
        norm_cfg (dict): Norm after both convs. Defaults to ``dict(type='BN', eps=1e-5)``.
        act_cfg (dict): Activation after the depthwise conv. Defaults to
            ``dict(type='Hardswish', inplace=True)``.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 3,
        norm_cfg: dict = dict(type='BN', eps=1e-5),
        act_cfg: dict = dict(type='Hardswish', inplace=True)
    ) -> None:
        super().__init__()
        self.depth_conv = ConvNormAct(
            channels,
            channels,
            kernel_size,
            groups=channels,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.point_conv = ConvNormAct(
            channels, channels, 1, bias=False, norm_cfg=norm_cfg, act_cfg=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.point_conv(self.depth_conv(x))


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand -> kxk depthwise -> 1x1 project (no SE).

    A shortcut ``x + ...`` is used when ``stride == 1`` and the widths match.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the depthwise conv. Defaults to 1.
        expand_ratio (float): Hidden width = ``round(in_channels * expand_ratio)``.
            Defaults to 4.
        kernel_size (int): Depthwise kernel size. Defaults to 3.
        fewer_norm (bool): The official "fewer norm" form of stages 3-4: the expand and
            depthwise convs have a bias and no norm; only the projection is normalised.
            Defaults to False.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN', eps=1e-5)``.
        act_cfg (dict): Activation after the expand and depthwise convs. Defaults to
            ``dict(type='Hardswish', inplace=True)``.
        drop_path_rate (float): Stochastic depth of the residual branch. Defaults to 0.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 expand_ratio: float = 4,
                 kernel_size: int = 3,
                 fewer_norm: bool = False,
                 norm_cfg: dict = dict(type='BN', eps=1e-5),
                 act_cfg: dict = dict(type='Hardswish', inplace=True),
                 drop_path_rate: float = 0.) -> None:
        super().__init__()
        mid = round(in_channels * expand_ratio)
        inner_norm = None if fewer_norm else norm_cfg
        self.inverted_conv = ConvNormAct(
            in_channels,
            mid,
            1,
            bias=fewer_norm,
            norm_cfg=inner_norm,
            act_cfg=act_cfg)
        self.depth_conv = ConvNormAct(
            mid,
            mid,
            kernel_size,
            stride=stride,
            groups=mid,
            bias=fewer_norm,
            norm_cfg=inner_norm,
            act_cfg=act_cfg)
        self.point_conv = ConvNormAct(
            mid, out_channels, 1, bias=False, norm_cfg=norm_cfg, act_cfg=None)
        self.residual = stride == 1 and in_channels == out_channels
        self.drop_path = DropPath(drop_path_rate) \
            if drop_path_rate > 0 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.point_conv(self.depth_conv(self.inverted_conv(x)))
        if not self.residual:
            return y
        if self.drop_path is not None:
            y = self.drop_path(y)
        return x + y


class _GroupedPointwiseConv(nn.Conv2d):
    """A grouped 1x1 conv computed as one batched matmul (same parameters and result).

    PyTorch's CPU path for grouped 1x1 convs (one thread, or no oneDNN) loops over the groups;
    a single ``(groups, out, in) @ (B, groups, in, HW)`` matmul is several times faster.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        g = self.groups
        w = self.weight.view(g, self.out_channels // g, C // g)
        # (B, C, H, W) -> (B, groups, C / groups, HW) -> (B, C_out, H, W)
        out = (w @ x.reshape(B, g, C // g, H * W)).view(B, -1, H, W)
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1)
        return out


class LiteMLA(nn.Module):
    """Lightweight multi-scale ReLU linear attention (no residual).

    ``qkv`` (1x1) gives Q/K/V for ``channels // head_dim`` heads; each scale ``s`` in
    ``scales`` adds as many heads again by aggregating the QKV map with an ``s x s``
    depthwise conv and a grouped 1x1 conv (one group per head's q, k or v). The attention is
    ``relu(Q) (relu(K)^T V) / (relu(Q) sum(relu(K)^T) + eps)`` per head, computed in float32
    with autocast disabled, in O(HW) time and memory; ``proj`` (1x1 + norm) maps the heads back.

    Args:
        channels (int): Input and output channels.
        head_dim (int): Channels per head. Defaults to 16.
        scales (Sequence[int]): Kernel sizes of the aggregation branches. Defaults to (5, ).
        eps (float): Added to the attention denominator. Defaults to 1e-15.
        norm_cfg (dict): Norm of ``proj``. Defaults to ``dict(type='BN', eps=1e-5)``.
    """

    def __init__(
        self,
        channels: int,
        head_dim: int = 16,
        scales: Sequence[int] = (5, ),
        eps: float = 1e-15,
        norm_cfg: dict = dict(type='BN', eps=1e-5)) -> None:
        super().__init__()
        heads = channels // head_dim
        if heads < 1:
            raise ValueError(f'LiteMLA: channels ({channels}) must be at '
                             f'least head_dim ({head_dim})')
        total = 3 * heads * head_dim
        self.head_dim = head_dim
        self.eps = eps
        self.qkv = nn.Conv2d(channels, total, 1, bias=False)
        self.aggreg = nn.ModuleList([
            nn.Sequential(
                nn.Conv2d(
                    total, total, s, padding=s // 2, groups=total, bias=False),
                _GroupedPointwiseConv(
                    total, total, 1, groups=3 * heads, bias=False))
            for s in scales
        ])
        self.proj = ConvNormAct(
            heads * head_dim * (1 + len(scales)),
            channels,
            1,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=None)

    def _attention(self, qkv: torch.Tensor) -> torch.Tensor:
        B, _, H, W = qkv.shape
        d = self.head_dim
        # (B, heads * 3d, H, W) -> (B, heads, 3d, HW); each head holds [q | k | v]
        qkv = qkv.reshape(B, -1, 3 * d, H * W)
        q = F.relu(qkv[:, :, :d])
        k = F.relu(qkv[:, :, d:2 * d])
        v = qkv[:, :, 2 * d:]
        if H * W > d:
            # official: a row of ones appended to v yields the normaliser in the same matmuls
            v = F.pad(v, (0, 0, 0, 1), mode='constant', value=1.)
            out = (v @ k.transpose(-1, -2)) @ q  # (B, heads, d + 1, HW)
            out = out[:, :, :-1] / (out[:, :, -1:] + self.eps)
        else:
            # official: the quadratic form is cheaper when HW <= head_dim
            att = k.transpose(-1, -2) @ q  # (B, heads, HW, HW)
            att = att / (att.sum(dim=2, keepdim=True) + self.eps)
            out = v @ att
        return out.reshape(B, -1, H, W)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        qkv = self.qkv(x)
        if len(self.aggreg):
            qkv = torch.cat([qkv] + [op(qkv) for op in self.aggreg], dim=1)
        # official: fp32 island; fp16 sums over many tokens overflow
        with torch.autocast(device_type=x.device.type, enabled=False):
            out = self._attention(qkv.float())
        return self.proj(out.to(x.dtype))


class EfficientViTBlock(nn.Module):
    """``x + LiteMLA(x)`` followed by a residual fewer-norm MBConv.

    Args:
        channels (int): Input and output channels.
        head_dim (int): Channels per attention head. Defaults to 16.
        expand_ratio (float): MBConv expansion. Defaults to 4.
        scales (Sequence[int]): LiteMLA aggregation kernels. Defaults to (5, ).
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN', eps=1e-5)``.
        act_cfg (dict): MBConv activation. Defaults to ``dict(type='Hardswish', inplace=True)``.
        drop_path_rate (float): Stochastic depth of both residual branches. Defaults to 0.
    """

    def __init__(self,
                 channels: int,
                 head_dim: int = 16,
                 expand_ratio: float = 4,
                 scales: Sequence[int] = (5, ),
                 norm_cfg: dict = dict(type='BN', eps=1e-5),
                 act_cfg: dict = dict(type='Hardswish', inplace=True),
                 drop_path_rate: float = 0.) -> None:
        super().__init__()
        self.context_module = LiteMLA(
            channels, head_dim, scales=scales, norm_cfg=norm_cfg)
        self.local_module = MBConv(
            channels,
            channels,
            1,
            expand_ratio,
            fewer_norm=True,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            drop_path_rate=drop_path_rate)
        self.drop_path = DropPath(drop_path_rate) \
            if drop_path_rate > 0 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.context_module(x)
        if self.drop_path is not None:
            y = self.drop_path(y)
        return self.local_module(x + y)


class FusedMBConv(nn.Module):
    """kxk conv (expand, carries the stride) + norm + act -> 1x1 conv + norm (L-series).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride. Defaults to 1.
        expand_ratio (float): Hidden width = ``round(in_channels * expand_ratio)``.
            Defaults to 4.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN', eps=1e-7)``.
        act_cfg (dict): Activation of the first conv. Defaults to
            ``dict(type='GELU', approximate='tanh')``.
        drop_path_rate (float): Stochastic depth of the residual branch. Defaults to 0.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 expand_ratio: float = 4,
                 norm_cfg: dict = dict(type='BN', eps=1e-7),
                 act_cfg: dict = dict(type='GELU', approximate='tanh'),
                 drop_path_rate: float = 0.) -> None:
        super().__init__()
        mid = round(in_channels * expand_ratio)
        self.spatial_conv = ConvNormAct(
            in_channels,
            mid,
            3,
            stride=stride,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.point_conv = ConvNormAct(
            mid, out_channels, 1, bias=False, norm_cfg=norm_cfg, act_cfg=None)
        self.residual = stride == 1 and in_channels == out_channels
        self.drop_path = DropPath(drop_path_rate) \
            if drop_path_rate > 0 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.point_conv(self.spatial_conv(x))
        if not self.residual:
            return y
        if self.drop_path is not None:
            y = self.drop_path(y)
        return x + y


class ResBlock(nn.Module):
    """Residual ``x + BN(conv3x3(act(BN(conv3x3(x)))))``, the L-series stem block.

    Args:
        channels (int): Input and output channels.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN', eps=1e-7)``.
        act_cfg (dict): Activation between the convs. Defaults to
            ``dict(type='GELU', approximate='tanh')``.
    """

    def __init__(
        self,
        channels: int,
        norm_cfg: dict = dict(type='BN', eps=1e-7),
        act_cfg: dict = dict(type='GELU', approximate='tanh')
    ) -> None:
        super().__init__()
        self.conv1 = ConvNormAct(
            channels,
            channels,
            3,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.conv2 = ConvNormAct(
            channels, channels, 3, bias=False, norm_cfg=norm_cfg, act_cfg=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.conv1(x))


@MODELS.register_module()
class EfficientViT(BaseEdgeBackbone):
    """EfficientViT B- and L-series backbones (MIT HAN Lab; not Microsoft's EfficientViT).

    A PyTorch implementation of `EfficientViT: Multi-Scale Linear Attention for
    High-Resolution Dense Prediction <https://arxiv.org/abs/2205.14756>`_ (ICCV 2023).
    Modified from `the official repo
    <https://github.com/mit-han-lab/efficientvit/tree/de7d7733cc0329f391b33f1f459271562ec27bd5>`_
    (``efficientvit/models/efficientvit/backbone.py``, ``models/nn/ops.py``; Apache-2.0).
    The different model of the paper's first version (EfficientViT-Base, no released code)
    is :class:`EfficientViTPaper`.

    Layout (``widths = (C0, C1, C2, C3, C4)``, ``depths = (D0, D1, D2, D3, D4)``, expansion
    ``e``); every stride-2 entry block has no shortcut:

    * B-series (``EfficientViTBackbone``): stem = 3x3/s2 conv + BN + act and ``D0`` residual
      :class:`DSConv`; stages 0-1 = ``D1`` / ``D2`` :class:`MBConv` (3x3, the first with
      stride 2); stages 2-3 = a stride-2 fewer-norm MBConv and ``D3`` / ``D4``
      :class:`EfficientViTBlock` (LiteMLA + fewer-norm MBConv).
    * L-series (``EfficientViTLargeBackbone``, ``large=True``): stem = 3x3/s2 conv and ``D0``
      :class:`ResBlock`; stages 0-1 = stride-2 :class:`FusedMBConv` (expansion 4e) and
      ``D1`` / ``D2`` FusedMBConv (e); stage 2 = the same with fewer-norm MBConvs; stage 3 = a
      stride-2 fewer-norm MBConv (expansion 6 x 4) and ``D4`` EfficientViTBlocks (MBConv
      expansion 6).

    Stage ``i`` of ``out_indices`` is the official ``stage{i+1}`` output (stride ``2**(i+2)``);
    the stride-2 stem output is not an output.

    Every conv pads ``k // 2``, so any input size works without padding: each stride-2 step
    rounds up (250x330 gives 63x83, 32x42, 16x21, 8x11).

    ``switch_to_deploy()`` folds every BatchNorm into the conv before it (every BN of the
    model follows a conv); the attention itself has no norm to fold.

    Args:
        arch (str | dict): ``'b0'``..``'b3'``, ``'l1'``..``'l3'`` or a dict with the keys
            ``widths`` (5 ints, stem first), ``depths`` (5 ints, stem first), ``head_dim``,
            ``expand_ratio`` and ``large`` (bool: L-series layout). Defaults to 'b0' (the
            smallest variant, as for every family).
        in_channels (int): Input channels. Defaults to 3.
        out_indices (int | Sequence[int]): Stages to output (0..3 = strides 4..32).
            Defaults to (0, 1, 2, 3).
        frozen_stages (int): -1 none, 0 the stem, k the stem and stages 0..k-1.
            Defaults to -1.
        norm_eval (bool): Keep BatchNorms in eval mode during training. Defaults to False.
        attn_scales (Sequence[int]): LiteMLA multi-scale kernels. Defaults to (5, ).
        drop_path_rate (float): Stochastic depth of the last residual block; linear from 0
            over the residual blocks of stages 0-3. Defaults to 0.
        norm_cfg (dict, optional): Norm of every block. None takes the official one:
            ``dict(type='BN', eps=1e-5)`` for the B-series, ``dict(type='BN', eps=1e-7)``
            for the L-series (the authors' model zoo sets these eps). Defaults to None.
        act_cfg (dict, optional): Activation of every block. None takes the official one:
            ``dict(type='Hardswish', inplace=True)`` (B; in place saves a copy) or
            ``dict(type='GELU', approximate='tanh')`` (L). Defaults to None.
        with_cp (bool): Gradient checkpointing per block. Defaults to False.
        deploy (bool): Build the fused form of ``switch_to_deploy()`` directly (loads fused
            state dicts strictly). Defaults to False.
        output_stride (int): Only 32: this family has no exact dilated form (see
            :class:`BaseEdgeBackbone`). Defaults to 32.
        init_cfg (dict | list[dict], optional): None gives the official init; see
            :class:`BaseEdgeBackbone`. Defaults to None.

    Note:
        * Drop path: the authors' trainer wraps every identity-shortcut residual of the stages
          with a rate growing linearly per residual and scaled by training progress; here the
          rate is per block (both residuals of an :class:`EfficientViTBlock` share it) and not
          scheduled over training.
        * The grouped 1x1 conv of the LiteMLA aggregation runs as one batched matmul (same
          weights and result; PyTorch's CPU conv loops over the groups).
        * L-series: ``depths[1:]`` count the blocks after each stride-2 entry block, as in the
          official ``EfficientViTLargeBackbone``; B-series stages 0-1 count the entry block.
        * ``_official_init`` is the authors' training init: trunc-normal(0.02) conv/linear
          weights, zero biases, unit norms, and zero weight for the last norm of every
          identity residual ("last gamma").

    Example:
        >>> import torch
        >>> from mmedge.models.backbones import EfficientViT
        >>> model = EfficientViT(arch='b0').eval()
        >>> with torch.no_grad():
        ...     outs = model(torch.rand(1, 3, 224, 224))
        >>> for out in outs:
        ...     print(tuple(out.shape))
        (1, 16, 56, 56)
        (1, 32, 28, 28)
        (1, 64, 14, 14)
        (1, 128, 7, 7)
    """
    arch_settings = {
        'b0':
        dict(
            widths=(8, 16, 32, 64, 128),
            depths=(1, 2, 2, 2, 2),
            head_dim=16,
            expand_ratio=4,
            large=False),
        'b1':
        dict(
            widths=(16, 32, 64, 128, 256),
            depths=(1, 2, 3, 3, 4),
            head_dim=16,
            expand_ratio=4,
            large=False),
        'b2':
        dict(
            widths=(24, 48, 96, 192, 384),
            depths=(1, 3, 4, 4, 6),
            head_dim=32,
            expand_ratio=4,
            large=False),
        'b3':
        dict(
            widths=(32, 64, 128, 256, 512),
            depths=(1, 4, 6, 6, 9),
            head_dim=32,
            expand_ratio=4,
            large=False),
        'l1':
        dict(
            widths=(32, 64, 128, 256, 512),
            depths=(1, 1, 1, 6, 6),
            head_dim=32,
            expand_ratio=4,
            large=True),
        'l2':
        dict(
            widths=(32, 64, 128, 256, 512),
            depths=(1, 2, 2, 8, 8),
            head_dim=32,
            expand_ratio=4,
            large=True),
        'l3':
        dict(
            widths=(64, 128, 256, 512, 1024),
            depths=(1, 2, 2, 8, 8),
            head_dim=32,
            expand_ratio=4,
            large=True),
    }
    converter = 'efficientvit'
    # official norm / act per series (efficientvit/cls_model_zoo.py sets the eps)
    _official_cfgs = {
        False: (dict(type='BN',
                     eps=1e-5), dict(type='Hardswish', inplace=True)),
        True: (dict(type='BN',
                    eps=1e-7), dict(type='GELU', approximate='tanh')),
    }

    def __init__(self,
                 arch: Union[str, dict] = 'b0',
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 attn_scales: Sequence[int] = (5, ),
                 drop_path_rate: float = 0.,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 with_cp: bool = False,
                 deploy: bool = False,
                 output_stride: int = 32,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(arch, in_channels, out_indices, frozen_stages,
                         norm_eval, with_cp, deploy, output_stride, init_cfg)
        large = bool(self.arch['large'])
        official_norm, official_act = self._official_cfgs[large]
        norm_cfg = official_norm if norm_cfg is None else norm_cfg
        act_cfg = official_act if act_cfg is None else act_cfg
        widths = tuple(self.arch['widths'])
        depths = tuple(self.arch['depths'])
        if len(widths) != 5 or len(depths) != 5 or min(depths[1:3]) < 1 \
                or min(depths) < 0:
            raise ValueError(
                f'EfficientViT: arch widths / depths need 5 entries (stem '
                f'first) and depths[1], depths[2] >= 1; got {widths}, '
                f'{depths}')
        head_dim = self.arch['head_dim']
        expand = self.arch['expand_ratio']
        self.out_channels = widths[1:]

        stem_block = ResBlock if large else DSConv
        self.stem = nn.Sequential(
            ConvNormAct(
                in_channels,
                widths[0],
                3,
                stride=2,
                bias=False,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg), *[
                    stem_block(widths[0], norm_cfg=norm_cfg, act_cfg=act_cfg)
                    for _ in range(depths[0])
                ])

        # residual blocks per stage (the stride-2 entry blocks have no shortcut)
        n_res = depths[1:] if large else (depths[1] - 1, depths[2] - 1,
                                          depths[3], depths[4])
        rates = drop_path_rates(n_res, drop_path_rate)
        self.stages = nn.ModuleList()
        c_in = widths[0]
        for i in range(4):
            c = widths[i + 1]
            cfgs = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
            if i == 3 or (i == 2 and not large):
                # official (L): the attention stage's MBConvs expand 6 (entry 6 x 4)
                e = expand * 1.5 if large else expand
                first = MBConv(
                    c_in, c, 2, e * 4 if large else e, fewer_norm=True, **cfgs)
                blocks = [
                    EfficientViTBlock(
                        c, head_dim, e, attn_scales, drop_path_rate=r, **cfgs)
                    for r in rates[i]
                ]
            elif large:
                block = FusedMBConv if i < 2 else partial(
                    MBConv, fewer_norm=True)
                first = block(c_in, c, 2, expand * 4, **cfgs)
                blocks = [
                    block(c, c, 1, expand, drop_path_rate=r, **cfgs)
                    for r in rates[i]
                ]
            else:
                first = MBConv(c_in, c, 2, expand, **cfgs)
                blocks = [
                    MBConv(c, c, 1, expand, drop_path_rate=r, **cfgs)
                    for r in rates[i]
                ]
            self.stages.append(nn.Sequential(first, *blocks))
            c_in = c
        self._finish_init()

    @torch.no_grad()
    def _official_init(self) -> None:
        init_trunc_normal(self, norm_types=NORM_TYPES)
        # official "last gamma": identity residual branches start at zero
        for m in self.modules():
            last = None
            if isinstance(m, DSConv) or (isinstance(m, (MBConv, FusedMBConv))
                                         and m.residual):
                last = m.point_conv.norm
            elif isinstance(m, ResBlock):
                last = m.conv2.norm
            elif isinstance(m, LiteMLA):
                last = m.proj.norm
            if getattr(last, 'weight', None) is not None:
                nn.init.zeros_(last.weight)
