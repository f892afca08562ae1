"""EdgeNeXt: conv encoders with adaptive kernels plus split depth-wise transposed attention."""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmedge.registry import MODELS
from mmedge.utils.typing import OptConfigType, OptMultiConfig
from ..layers import (DropPath, bn_scale_shift, build_act_layer,
                      build_layout_norm, drop_path_rates,
                      fold_affine_into_input, fuse_conv_bn, init_trunc_normal,
                      layer_norm_last, pad_to_min_size)
from .base import BaseEdgeBackbone

__all__ = ['EdgeNeXt', 'ConvEncoder', 'SDTAEncoder']

# official: per-stage depthwise kernel, SDTA channel splits s and PE use.
_KERNEL_SIZES = (3, 5, 7, 9)
_SPLITS = (2, 2, 3, 4)
_USE_POS_EMBED = (False, True, False, False)
# official: channels, blocks per stage (the SDTA included), attention heads
_VARIANTS = {
    'xx_small': ((24, 48, 88, 168), (2, 2, 6, 2), (4, 4, 4, 4)),
    'x_small': ((32, 64, 100, 192), (3, 3, 9, 3), (4, 4, 4, 4)),
    'small': ((48, 96, 160, 304), (3, 3, 9, 3), (8, 8, 8, 8)),
    'base': ((80, 160, 288, 584), (3, 3, 9, 3), (8, 8, 8, 8)),
}


# ---------------------------------------------------------------- helpers
def _map_norm(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """An NCHW norm (BN, GN, LN2d) on an NHWC tensor; both permutes are views."""
    return norm(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def _nhwc_norm(norm: nn.Module, x: torch.Tensor,
               bn_layout: bool) -> torch.Tensor:
    """A block / stem / down-sampling norm on an NHWC tensor, in either layout."""
    return _map_norm(norm, x) if bn_layout else layer_norm_last(norm, x)


def _add_residual(x: torch.Tensor, y: torch.Tensor,
                  gamma: Optional[torch.Tensor],
                  drop_path: nn.Module) -> torch.Tensor:
    """``x + drop_path(gamma * y)``; one fused ``addcmul`` when nothing is dropped."""
    if gamma is None:
        return x + drop_path(y)
    if isinstance(drop_path, nn.Identity) or not drop_path.training:
        return torch.addcmul(x, y, gamma)
    return x + drop_path(y * gamma)


# A LayerNorm's affine part is deliberately never folded: torch applies it inside the fused
# LayerNorm kernel at no cost, and the affine-free kernel is the slower one on CPU (torch 2.13,
# 1 thread: 250 vs 128 us on a (1, 56, 56, 24) map), so folding it into the next Linear would
# make the deploy form slower. Only eval BatchNorms (``bn_scale_shift``) are folded.


@torch.no_grad()
def _fold_scale_into_output(linear: nn.Linear, gamma: torch.Tensor) -> None:
    """``gamma * linear(x)`` == new ``linear(x)`` (layer scale)."""
    linear.weight.mul_(gamma[:, None])
    linear.bias.mul_(gamma)


def _layer_scale(channels: int, value: float) -> Optional[nn.Parameter]:
    return nn.Parameter(torch.full(
        (channels, ), float(value))) if value > 0 else None


def _build_norm(cfg: dict, channels: int, bn_layout: bool) -> nn.Module:
    """A norm of the LN layout (LN / LN2d over channels) or the BN layout (NCHW norms)."""
    return build_layout_norm(
        cfg,
        channels,
        channels_last=not bn_layout,
        owner='EdgeNeXt (BN layout)' if bn_layout else
        'EdgeNeXt (LayerNorm layout)',
        hint='' if bn_layout else ' Use a *_bn_hs arch for BatchNorm.')


# ---------------------------------------------------------------- blocks
class _MLPBlock(nn.Module):
    """The tail both encoders share: Linear -> act -> Linear -> layer scale -> residual."""

    def _build_mlp(self, channels: int, mlp_ratio: float, act_cfg: dict,
                   layer_scale_init_value: float,
                   drop_path_rate: float) -> None:
        self.pointwise_conv1 = nn.Linear(channels, int(mlp_ratio * channels))
        self.act = build_act_layer(act_cfg)
        self.pointwise_conv2 = nn.Linear(int(mlp_ratio * channels), channels)
        self.gamma = _layer_scale(channels, layer_scale_init_value)
        self.drop_path = DropPath(
            drop_path_rate) if drop_path_rate > 0 else nn.Identity()
        self.deploy = False

    def _mlp_residual(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = self.pointwise_conv2(self.act(self.pointwise_conv1(y)))
        return _add_residual(x, y, self.gamma, self.drop_path)

    def _fold_layer_scale(self) -> None:
        if self.gamma is not None:
            _fold_scale_into_output(self.pointwise_conv2, self.gamma)
            self.gamma = None
        self.deploy = True


class ConvEncoder(_MLPBlock):
    """The Conv. encoder: DW kxk -> norm -> Linear -> act -> Linear -> layer scale.

    Works on NHWC tensors ``(B, H, W, C)`` so the pointwise Linears and the
    channel LayerNorm need no transposed copies.

    Args:
        channels (int): Channels C.
        kernel_size (int): Depthwise kernel size ('same' padding).
        mlp_ratio, norm_cfg, act_cfg, layer_scale_init_value: As in :class:`EdgeNeXt`.
        drop_path_rate (float): Stochastic depth rate of the residual branch.
        bn_layout (bool): The official ``*_bn_hs`` layout (DW conv without bias, BN on
            the map).
        dilation (int): Dilation of the DW conv (output stride < 32). Defaults to 1.
    """

    def __init__(self,
                 channels: int,
                 kernel_size: int,
                 mlp_ratio: float,
                 norm_cfg: dict,
                 act_cfg: dict,
                 layer_scale_init_value: float,
                 drop_path_rate: float,
                 bn_layout: bool,
                 dilation: int = 1) -> None:
        super().__init__()
        self.bn_layout = bn_layout
        self.depthwise_conv = nn.Conv2d(
            channels,
            channels,
            kernel_size,
            padding=kernel_size // 2 * dilation,
            dilation=dilation,
            groups=channels,
            bias=not bn_layout)  # official: no bias before the BN
        self.norm = _build_norm(norm_cfg, channels, bn_layout)
        self._build_mlp(channels, mlp_ratio, act_cfg, layer_scale_init_value,
                        drop_path_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, H, W, C) -> NCHW view for the DW conv -> (B, H, W, C)
        y = self.depthwise_conv(x.permute(0, 3, 1, 2))
        if self.bn_layout:
            y = self.norm(y).permute(0, 2, 3, 1)
        else:
            y = layer_norm_last(self.norm, y.permute(0, 2, 3, 1))
        return self._mlp_residual(x, y)

    @torch.no_grad()
    def switch_to_deploy(self) -> None:
        """Fold BN into the DW conv (BN layout) and the layer scale into
        ``pointwise_conv2``."""
        if self.deploy:
            return
        if self.bn_layout and bn_scale_shift(self.norm) is not None:
            self.depthwise_conv = fuse_conv_bn(self.depthwise_conv, self.norm)
            self.norm = nn.Identity()
        self._fold_layer_scale()


class FourierPositionEncoding(nn.Module):
    """XCiT's sinusoidal position encoding with a 1x1 projection (key ``proj``).

    The 64 features of a position are 32 of its row and 32 of its column, so the
    projection splits into an (H, C) and a (W, C) table that are broadcast-added:
    O((H + W) C) work instead of O(HWC), and resolution-agnostic.
    """

    def __init__(self,
                 channels: int,
                 hidden: int = 32,
                 temperature: float = 10000.) -> None:
        super().__init__()
        # official: hidden_dim 32, temperature 1e4, Conv2d(64, C, 1) projection
        self.proj = nn.Conv2d(2 * hidden, channels, 1)
        self.hidden = hidden
        self.temperature = temperature

    def _table(self, n: int, device) -> torch.Tensor:
        """(n, hidden) features of positions 1..n along one axis."""
        # official: cumsum of ones / (last + 1e-6) * 2 pi, all float32
        pos = torch.arange(1, n + 1, dtype=torch.float32, device=device)
        pos = pos / (pos[-1:] + 1e-6) * (2 * math.pi)
        dim_t = torch.arange(self.hidden, dtype=torch.float32, device=device)
        dim_t = self.temperature**(2 * (dim_t // 2) / self.hidden)
        pos = pos[:, None] / dim_t
        # interleave sin (even) and cos (odd): (n, hidden / 2, 2) -> (n, hidden)
        return torch.stack((pos[:, 0::2].sin(), pos[:, 1::2].cos()),
                           dim=2).flatten(1)

    def forward(self, h: int, w: int) -> torch.Tensor:
        """The (H, W, C) encoding to add to NHWC tokens."""
        weight = self.proj.weight.flatten(1)  # (C, 2 * hidden)
        dev, dtype = weight.device, weight.dtype
        rows = F.linear(
            self._table(h, dev).to(dtype), weight[:, :self.hidden],
            self.proj.bias)  # (H, C), official order: y features first
        cols = F.linear(
            self._table(w, dev).to(dtype), weight[:, self.hidden:])  # (W, C)
        return rows[:, None, :] + cols[None, :, :]


class TransposedAttention(nn.Module):
    """Multi-head cross-covariance (transposed) attention of XCiT / EdgeNeXt.

    Keys follow mmpretrain's ``ChannelMultiheadAttention``: ``scale`` (the official
    per-head ``temperature``), ``qkv``, ``proj``. The attention is a (C/h x C/h) map
    per head over L2-normalised (along the tokens) q and k. The forward folds the
    normalisation into that small map and ``proj`` (and the layer scale) into a
    (C x C) matrix per image, so that ``attn @ v`` and its output transpose are never
    materialised: ``out = v @ (gamma * W_proj @ blockdiag(attn))^T``.
    """

    def __init__(self, channels: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        # official: temperature (heads, 1, 1) = 1, qkv with bias, proj with bias
        self.scale = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor, identity: torch.Tensor,
                gamma: Optional[torch.Tensor],
                drop_path: nn.Module) -> torch.Tensor:
        """``identity + drop_path(gamma * proj(XCA(x)))`` for (B, N, C) tokens."""
        b, n, c = x.shape
        h = self.num_heads
        d = c // h
        q, k, v = self.qkv(x).split(c, dim=-1)  # 3 x (B, N, C) views
        q = q.reshape(b, n, h, d).permute(0, 2, 3, 1)  # (B, h, d, N)
        k = k.reshape(b, n, h, d).transpose(1, 2)  # (B, h, N, d)
        # official: F.normalize(q / k, dim=tokens) (eps 1e-12), then temperature
        q_norm = torch.linalg.vector_norm(q, dim=-1).clamp_min(1e-12)
        k_norm = torch.linalg.vector_norm(k, dim=-2).clamp_min(1e-12)
        attn = (q @ k) * (
            self.scale / (q_norm[..., :, None] * k_norm[..., None, :]))
        attn = attn.softmax(dim=-1)  # (B, h, d, d)
        weight, bias = self.proj.weight, self.proj.bias
        if gamma is not None:
            weight, bias = weight * gamma[:, None], bias * gamma
        # (h, C, d) @ (B, h, d, d) -> (B, h, C, d) -> (B, C, C): column h*d + j
        mat = torch.matmul(weight.view(c, h, d).transpose(0, 1), attn)
        mat = mat.permute(0, 2, 1, 3).reshape(b, c, c)
        if isinstance(drop_path, nn.Identity) or not drop_path.training:
            return torch.baddbmm(identity + bias, v, mat.transpose(1, 2))
        return identity + drop_path(torch.bmm(v, mat.transpose(1, 2)) + bias)


class SDTAEncoder(_MLPBlock):
    """Split depth-wise transpose attention encoder (on NHWC tensors).

    Channels split into chunks of ``w = ceil(C / s)`` (the last one narrower); the
    first ``s - 1`` go through a cascade of 3x3 DW convs, the last passes through
    unchanged (official order). Then the optional Fourier position encoding,
    ``t = t + gamma_csa * XCA(norm_csa(t))`` and ``out = x + gamma * MLP(norm(t))``:
    the residual is from the block input. In the official ``*_bn_hs`` layout
    ``norm_csa`` is a BN on the map *before* the encoding and the attention residual
    starts from the normalised map.

    Args:
        channels (int): Channels C.
        num_heads (int): Attention heads (must divide C).
        splits (int): Channel splits s (>= 2).
        use_pos_embed (bool): Add the Fourier position encoding.
        mlp_ratio, norm_cfg, act_cfg, layer_scale_init_value: As in :class:`EdgeNeXt`.
        drop_path_rate (float): Stochastic depth rate (both branches, as official).
        bn_layout (bool): The official ``*_bn_hs`` layout.
        dilation (int): Dilation of the split DW convs (output stride < 32). Defaults to 1.
    """

    def __init__(self,
                 channels: int,
                 num_heads: int,
                 splits: int,
                 use_pos_embed: bool,
                 mlp_ratio: float,
                 norm_cfg: dict,
                 act_cfg: dict,
                 layer_scale_init_value: float,
                 drop_path_rate: float,
                 bn_layout: bool,
                 dilation: int = 1) -> None:
        super().__init__()
        width = math.ceil(channels / splits)
        self.width = width
        self.bn_layout = bn_layout
        self.conv_modules = nn.ModuleList(
            nn.Conv2d(
                width,
                width,
                3,
                padding=dilation,
                dilation=dilation,
                groups=width) for _ in range(splits - 1))
        self.pos_embed = FourierPositionEncoding(
            channels) if use_pos_embed else None
        self.norm_csa = _build_norm(norm_cfg, channels, bn_layout)
        self.gamma_csa = _layer_scale(channels, layer_scale_init_value)
        self.csa = TransposedAttention(channels, num_heads)
        self.norm = _build_norm(norm_cfg, channels, bn_layout)
        self._build_mlp(channels, mlp_ratio, act_cfg, layer_scale_init_value,
                        drop_path_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, c = x.shape
        xc = x.permute(0, 3, 1, 2)  # NCHW view
        parts, sp = [], None
        for i, conv in enumerate(self.conv_modules):
            chunk = xc[:, i * self.width:(i + 1) * self.width]
            sp = conv(chunk if sp is None else sp + chunk)
            parts.append(sp.permute(0, 2, 3, 1))
        parts.append(x[..., len(self.conv_modules) * self.width:])
        t = torch.cat(parts, dim=-1)  # (B, H, W, C)
        if self.bn_layout:
            t = _map_norm(self.norm_csa, t)
        if self.pos_embed is not None:
            t = t + self.pos_embed(h, w)
        u = t if self.bn_layout else layer_norm_last(self.norm_csa, t)
        # (B, H, W, C) -> (B, N, C) views
        t = self.csa(
            u.reshape(b, h * w, c), t.reshape(b, h * w, c), self.gamma_csa,
            self.drop_path).view(b, h, w, c)
        return self._mlp_residual(x, _nhwc_norm(self.norm, t, self.bn_layout))

    @torch.no_grad()
    def switch_to_deploy(self) -> None:
        """Fold the layer scales into ``csa.proj`` / ``pointwise_conv2`` and the norm
        before the MLP (BN layout: the eval BN) into ``pointwise_conv1``. The
        BN-layout ``norm_csa`` stays: the attention residual starts from its output."""
        if self.deploy:
            return
        affine = bn_scale_shift(self.norm)
        if affine:
            fold_affine_into_input(self.pointwise_conv1, *affine)
            self.norm = nn.Identity()
        if self.gamma_csa is not None:
            _fold_scale_into_output(self.csa.proj, self.gamma_csa)
            self.gamma_csa = None
        self._fold_layer_scale()


class _Stem(nn.Sequential):
    """4x4/4 patchify conv (``0``) + norm (``1``): an NCHW image in, an NHWC map out.

    An input below 4 pixels is zero-padded to 4 (one patch at least).
    """

    def __init__(self, in_channels: int, channels: int, norm_cfg: dict,
                 bn_layout: bool) -> None:
        # official: the *_bn_hs stem conv has no bias
        super().__init__(
            nn.Conv2d(in_channels, channels, 4, stride=4, bias=not bn_layout),
            _build_norm(norm_cfg, channels, bn_layout))
        self.bn_layout = bn_layout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Channels-last input: the convs then return channels-last maps whose NHWC
        # views are contiguous, so no block needs a transposed copy.
        x = pad_to_min_size(x, 4).contiguous(memory_format=torch.channels_last)
        conv, norm = self
        return _nhwc_norm(norm, conv(x).permute(0, 2, 3, 1), self.bn_layout)

    @torch.no_grad()
    def switch_to_deploy(self) -> None:
        """Fold a BatchNorm into the conv (idempotent)."""
        if bn_scale_shift(self[1]) is not None:
            self[0] = fuse_conv_bn(self[0], self[1])
            self[1] = nn.Identity()


class _Downsample(nn.Sequential):
    """Norm (``0``) + 2x2 conv (``1``) on NHWC maps, at the start of stages 2-4.

    Stride 2 (official) halves the map; a 1-pixel side is zero-padded to 2 first (inputs below
    32). Stride 1 (output stride < 32) keeps the size: the conv is dilated by the dilation
    ``d`` of the incoming map and the map zero-padded by ``d`` at the bottom / right, so each
    output pixel combines the 2x2 neighbourhood that the stride-2 conv would have.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 norm_cfg: dict,
                 bn_layout: bool,
                 stride: int = 2,
                 dilation: int = 1) -> None:
        # official: the *_bn_hs downsampling convs have no bias
        super().__init__(
            _build_norm(norm_cfg, in_channels, bn_layout),
            nn.Conv2d(
                in_channels,
                out_channels,
                2,
                stride=stride,
                dilation=dilation,
                bias=not bn_layout))
        self.bn_layout = bn_layout
        self.pad = 0 if stride == 2 else dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm, conv = self
        x = _nhwc_norm(norm, x, self.bn_layout).permute(0, 3, 1, 2)
        if self.pad:
            x = F.pad(x, (0, self.pad, 0, self.pad)).contiguous(
                memory_format=torch.channels_last)
        else:
            x = pad_to_min_size(x, 2)
        return conv(x).permute(0, 2, 3, 1)

    @torch.no_grad()
    def switch_to_deploy(self) -> None:
        """Fold an eval BatchNorm into the following conv (idempotent).

        Not at stride 1: the conv then reads a zero border that the norm never saw, which a
        folded conv would read as shifted values.
        """
        affine = bn_scale_shift(self[0])
        if affine is not None and not self.pad:
            fold_affine_into_input(self[1], *affine)
            self[0] = nn.Identity()


# ---------------------------------------------------------------- backbone
@MODELS.register_module()
class EdgeNeXt(BaseEdgeBackbone):
    """EdgeNeXt backbone.

    A PyTorch implementation of `EdgeNeXt: Efficiently Amalgamated CNN-Transformer
    Architecture for Mobile Vision Applications <https://arxiv.org/abs/2206.10589>`_.
    Modified from the `official repo
    <https://github.com/mmaaz60/EdgeNeXt/tree/388450404fdd6d6e097f1cf94f5afcbbdc352f08>`_
    (MIT license), with mmpretrain's state-dict layout.

    Stem: 4x4/4 conv + norm; stages 2-4 start with norm + 2x2/2 conv. Stage i holds
    Conv. encoders (DW kernel 3/5/7/9) and, in stages 2-4, one SDTA encoder as its last
    block (channel splits 2/3/4, Fourier position encoding in stage 2 only). Outputs
    have strides 4/8/16/32 (``output_stride=32``) and no extra norm.

    Args:
        arch (str | dict): ``'xx_small'``, ``'x_small'``, ``'small'``, ``'base'`` or the
            BatchNorm + Hardswish ``'xx_small_bn_hs'``, ``'x_small_bn_hs'``,
            ``'small_bn_hs'`` (aliases: mmpretrain's ``'xxsmall'``, ``'xsmall'``, and
            ``'xxs'``, ``'xs'``, ``'s'``, ``'b'``, ``'xxs_bn_hs'`` ...), or a dict with
            ``channels``, ``depths`` (blocks per stage, the SDTA included) and
            ``num_heads`` (4 ints each) and optionally ``bn_hs`` (bool, default False).
            Defaults to 'xx_small'.
        in_channels (int): Input channels. Defaults to 3.
        out_indices (int | Sequence[int]): Stages to output (0..3 = strides
            4/8/16/32). Defaults to (0, 1, 2, 3).
        frozen_stages (int): -1: none, 0: stem, k: stem + stages 0..k-1.
            Defaults to -1.
        norm_eval (bool): Keep BatchNorms in eval mode in training. Defaults to False.
        with_cp (bool): Gradient checkpointing per block. Defaults to False.
        drop_path_rate (float): Stochastic depth rate of the last block (linear
            schedule over all blocks). Defaults to 0.
        layer_scale_init_value (float): Initial layer scale of every residual branch;
            0 disables layer scale. Defaults to 1e-6.
        mlp_ratio (float): MLP expansion of both block types. Defaults to 4.
        norm_cfg (dict, optional): Norm of every block, the stem and the
            downsampling layers. None gives the official one: ``dict(type='LN2d',
            eps=1e-6)``, or ``dict(type='BN', eps=1e-5)`` for ``*_bn_hs``. The LN
            layout accepts LN / LN2d (applied over channels), the BN layout NCHW norms
            (BN, SyncBN, GN, LN2d). Defaults to None.
        act_cfg (dict, optional): MLP activation. None gives the official
            ``dict(type='GELU')``, or ``dict(type='Hardswish')`` for ``*_bn_hs``.
            Defaults to None.
        gap_before_final_norm (bool): Classification only: for each out index i, add
            ``norm{i}`` and output (N, C) features: global average pooling then
            ``norm{i}`` (official LN head), or ``norm{i}`` on the map then pooling
            (official ``*_bn_hs`` BN head). Defaults to False.
        output_stride (int): 32 (official), 16 or 8: the dilated form for dense
            prediction (see below). Defaults to 32.
        deploy (bool): Build the fused form of ``switch_to_deploy()`` directly (loads
            fused state dicts strictly). Defaults to False.
        init_cfg (dict | list[dict], optional): None gives the official init
            (trunc-normal std 0.02 for conv / Linear weights, zero biases, unit LN).
            Defaults to None.

    Sizes: any H x W works; the non-overlapping patchify convs floor, as official
    (250 x 330 gives 62x82, 31x41, 15x20, 7x10). Below 32 pixels, a 1-pixel map is
    zero-padded to 2 before a 2x2 downsampling (and an input below 4 to 4), so every
    stage keeps at least one pixel (e.g. 20 x 45 gives 5x11, 2x5, 1x2, 1x1).

    Output stride 16 / 8 (``output_stride``; the paper's DeepLabv3 on VOC, Table 5, runs
    the backbone at output stride 16, as the MobileViT DeepLabv3 set-up of ml-cvnets it
    follows): the 2x2 down-sampling of stage 4 (16: stage 4; 8: stages 3 and 4) keeps the
    resolution and every later spatial conv is dilated, the ml-cvnets rule: the
    down-sampling conv by the dilation of its input map (1, then 2) with that much zero
    padding at the bottom / right, the depth-wise kxk convs of the Conv. encoders and the
    3x3 convs of the SDTA split by 2 (16) or 2 / 4 (8). The state dict is unchanged, so
    ImageNet weights load as they are. Up to the SDTA of a dilated stage, the even pixels
    ``[::2, ::2]`` of the maps equal the stride-32 model's maps (dilation makes the
    convolutions exact on that grid). The SDTA attention is the one part that is not local:
    its (C/h x C/h) cross-covariance attention is computed from q / k L2-normalised over all
    tokens, so at 4x the tokens it is the same cosine-similarity statistic over a denser
    sampling of the map (neither its cost shape nor its scale depends on the token count);
    the Fourier position encoding is only in stage 2, which is never dilated. At 512 x 512,
    ``configs/edgenext/deeplabv3_edgenext_s_voc.py`` (EdgeNeXt-S at output stride 16, ASPP head of
    128 channels) counts 8.41 G fvcore MACs (paper: 8.7 G MAdds, Table 5; 5.32 G at
    output stride 32). ``switch_to_deploy()`` keeps the BN of a
    stride-1 down-sampling (BN layout): the padded border could not be folded exactly.

    ``switch_to_deploy()`` (eval only, in place) folds every layer scale into the
    preceding Linear (``pointwise_conv2``, ``csa.proj``). BN layout: the stem BN and
    the DW-conv BN into their convs, the downsampling BN into the following 2x2 conv,
    the SDTA MLP BN into ``pointwise_conv1``; ``norm_csa`` stays (the attention
    residual starts from its output). LN layout: only the layer scales; the
    LayerNorms stay whole (their statistics cannot be folded, and their affine part is
    free inside torch's fused LayerNorm kernel, while the affine-free kernel is slower
    on CPU). ``norm{i}`` is never touched.

    Note:
        * XX-small uses the code's depths (2, 2, 6, 2), not the paper's table, which
          reproduces the reported 1.33M parameters.
        * Keys follow mmpretrain's ``EdgeNeXt`` (``depthwise_conv``,
          ``pointwise_conv1/2``, SDTA ``conv_modules``, ``pos_embed.proj``,
          ``norm_csa``, ``gamma_csa``, ``csa.scale`` = official ``temperature``), so
          mmpretrain-converted checkpoints load with ``prefix='backbone.'``; the
          authors' files are converted on load. Numerics follow the official code
          (LN eps 1e-6 everywhere), not mmpretrain.
        * The official SDTA ignores ``layer_scale_init_value`` (always 1e-6); here it
          applies to every branch (same result at the default).
        * The transposed attention is computed in an algebraically equal but leaner
          order (see :class:`TransposedAttention`); blocks run on NHWC tensors. Results
          match the official model to float32 rounding.
        * Unlike mmpretrain, the per-stage outputs have no norm unless
          ``gap_before_final_norm=True``; stages after the last ``out_indices`` entry
          are not computed.

    Example:
        >>> import torch
        >>> from mmedge.models import EdgeNeXt
        >>> model = EdgeNeXt(arch='xx_small').eval()
        >>> for out in model(torch.rand(1, 3, 224, 224)):
        ...     print(tuple(out.shape))
        (1, 24, 56, 56)
        (1, 48, 28, 28)
        (1, 88, 14, 14)
        (1, 168, 7, 7)
    """
    # official variants; *_bn_hs: BatchNorm + Hardswish (no base_bn_hs exists)
    arch_settings = {
        name + sfx: dict(channels=c, depths=d, num_heads=h, bn_hs=bool(sfx))
        for name, (c, d, h) in _VARIANTS.items()
        for sfx in ('', '_bn_hs') if name != 'base' or not sfx
    }
    arch_aliases = {
        'xxsmall': 'xx_small', 'xsmall': 'x_small', 'xxs': 'xx_small',
        'xs': 'x_small', 's': 'small', 'b': 'base',
        'xxs_bn_hs': 'xx_small_bn_hs', 'xs_bn_hs': 'x_small_bn_hs',
        's_bn_hs': 'small_bn_hs'
    }  # yapf: disable
    converter = 'edgenext'
    output_strides = (8, 16, 32)

    def __init__(self,
                 arch: Union[str, dict] = 'xx_small',
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 drop_path_rate: float = 0.,
                 layer_scale_init_value: float = 1e-6,
                 mlp_ratio: float = 4.,
                 norm_cfg: OptConfigType = None,
                 act_cfg: OptConfigType = None,
                 gap_before_final_norm: bool = False,
                 output_stride: int = 32,
                 deploy: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(arch, in_channels, out_indices, frozen_stages,
                         norm_eval, with_cp, deploy, output_stride, init_cfg)
        channels, depths, heads = self._check_arch(self.arch)
        bn = self.bn_layout = bool(self.arch['bn_hs'])
        if norm_cfg is None:  # official: LN eps 1e-6; BatchNorm2d defaults
            norm_cfg = dict(type='LN2d', eps=1e-6)
            if bn:
                norm_cfg = dict(type='BN', eps=1e-5)
        if act_cfg is None:
            act_cfg = dict(type='Hardswish') if bn else dict(type='GELU')
        if layer_scale_init_value < 0 or mlp_ratio <= 0:
            raise ValueError('EdgeNeXt: layer_scale_init_value must be >= 0 '
                             'and mlp_ratio > 0')
        self.out_channels = channels
        self.gap_before_final_norm = bool(gap_before_final_norm)
        dpr = drop_path_rates(depths, drop_path_rate)

        strides, dilations = self.stage_strides, self.stage_dilations
        self.downsample_layers = nn.ModuleList(
            [_Stem(in_channels, channels[0], norm_cfg, bn)])
        self.stages = nn.ModuleList()
        for i in range(self.num_stages):
            if i > 0:
                self.downsample_layers.append(
                    _Downsample(channels[i - 1], channels[i], norm_cfg, bn,
                                strides[i], dilations[i - 1]))
            blocks = [
                ConvEncoder(channels[i], _KERNEL_SIZES[i], mlp_ratio, norm_cfg,
                            act_cfg, layer_scale_init_value, dpr[i][j], bn,
                            dilations[i]) for j in range(depths[i] - (i > 0))
            ]
            if i > 0:  # official: one SDTA as the last block of stages 2-4
                blocks.append(
                    SDTAEncoder(channels[i], heads[i], _SPLITS[i],
                                _USE_POS_EMBED[i], mlp_ratio, norm_cfg,
                                act_cfg, layer_scale_init_value, dpr[i][-1],
                                bn, dilations[i]))
            self.stages.append(nn.Sequential(*blocks))
        if self.gap_before_final_norm:
            for i in self.out_indices:
                self.add_module(f'norm{i}',
                                _build_norm(norm_cfg, channels[i], bn))
        self._finish_init()

    @classmethod
    def _parse_arch(cls, arch: Union[str, dict]) -> dict:
        if isinstance(arch, dict) and 'bn_hs' not in arch:
            arch = dict(arch, bn_hs=False)
        return super()._parse_arch(arch)

    @staticmethod
    def _check_arch(arch: dict) -> Tuple[tuple, tuple, tuple]:
        vals = []
        for key in ('channels', 'depths', 'num_heads'):
            val = arch[key]
            if not isinstance(val, Sequence) or len(val) != 4 or not all(
                    isinstance(v, int) and v > 0 for v in val):
                raise ValueError(f'EdgeNeXt: arch[{key!r}] must be 4 positive '
                                 f'ints, got {val!r}')
            vals.append(tuple(val))
        channels, _, heads = vals
        for i in range(1, 4):
            c, s = channels[i], _SPLITS[i]
            if c % heads[i]:
                raise ValueError(f'EdgeNeXt: stage {i} channels {c} are not '
                                 f'divisible by num_heads {heads[i]}')
            if (s - 1) * math.ceil(c / s) >= c:
                raise ValueError(f'EdgeNeXt: stage {i} channels {c} cannot be '
                                 f'split into {s} chunks of ceil(C/{s})')
        return tuple(vals)

    def _stem_blocks(self) -> List[nn.Module]:
        return [self.downsample_layers[0]]

    def _stage_blocks(self, i: int) -> List[nn.Module]:
        head = [self.downsample_layers[i]] if i > 0 else []
        return head + list(self.stages[i])

    def _stage_modules(self, i: int) -> List[nn.Module]:
        mods = self._stage_blocks(i)
        if hasattr(self, f'norm{i}'):
            mods.append(getattr(self, f'norm{i}'))
        return mods

    def _official_init(self) -> None:
        # official: trunc-normal(0.02) conv / Linear weights, zero biases, unit LN
        init_trunc_normal(self)

    def _stage_output(self, i: int, x: torch.Tensor) -> torch.Tensor:
        if not self.gap_before_final_norm:
            return x.permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
        norm = getattr(self, f'norm{i}')
        if self.bn_layout:  # official: BN on the map, then pooling
            return norm(x.permute(0, 3, 1, 2)).mean((2, 3))
        return layer_norm_last(norm, x.mean((1, 2)))  # official: pool, then LN
