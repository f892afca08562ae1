"""EdgeNeXt: conv encoders with adaptive kernels plus split depth-wise transposed attention."""
import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

from mmedge.registry import MODELS
from mmedge.utils.typing import OptConfigType, OptMultiConfig
from ..layers import (DropPath, LayerNorm2d, build_act_layer, build_norm_layer,
                      drop_path_rates, fuse_conv_bn)
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
def _layer_norm(norm: nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
    """LayerNorm over the last (channel) dim of an NHWC / NLC tensor."""
    return F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias,
                        norm.eps)


def _map_norm(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """An NCHW norm (BN, GN, LN2d) on an NHWC tensor; both permutes are views."""
    return norm(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def _add_residual(x: torch.Tensor, y: torch.Tensor,
                  gamma: Optional[torch.Tensor],
                  drop_path: nn.Module) -> torch.Tensor:
    """``x + drop_path(gamma * y)``; one fused ``addcmul`` when nothing is dropped."""
    if gamma is None:
        return x + drop_path(y)
    if isinstance(drop_path, nn.Identity) or not drop_path.training:
        return torch.addcmul(x, y, gamma)
    return x + drop_path(y * gamma)


def _affine_of(norm: nn.Module) -> Optional[Tuple[torch.Tensor, ...]]:
    """``(scale, shift)`` of an eval BatchNorm; None for anything else.

    A LayerNorm's affine part is deliberately not folded: torch applies it inside the
    fused LayerNorm kernel at no cost, and the affine-free kernel is the slower one on
    CPU (torch 2.13, 1 thread: 250 vs 128 us on a (1, 56, 56, 24) map), so folding it
    into the next Linear would make the deploy form slower, not faster.
    """
    if isinstance(norm, _BatchNorm) and norm.running_var is not None:
        scale = torch.rsqrt(norm.running_var + norm.eps)
        shift = -norm.running_mean * scale
        if norm.affine:
            scale, shift = scale * norm.weight, shift * norm.weight + norm.bias
        return scale, shift
    return None


@torch.no_grad()
def _fold_into_input(layer: nn.Module, scale: torch.Tensor,
                     shift: torch.Tensor) -> None:
    """``layer(x * scale + shift)`` == new ``layer(x)`` for a Linear or an unpadded conv."""
    w = layer.weight
    view = (1, -1) + (1, ) * (w.ndim - 2)
    extra = (w * shift.view(view)).flatten(1).sum(1)
    if layer.bias is None:
        layer.bias = nn.Parameter(extra)
    else:
        layer.bias.add_(extra)
    w.mul_(scale.view(view))


@torch.no_grad()
def _fold_scale_into_output(linear: nn.Linear, gamma: torch.Tensor) -> None:
    """``gamma * linear(x)`` == new ``linear(x)`` (layer scale)."""
    linear.weight.mul_(gamma[:, None])
    linear.bias.mul_(gamma)


def _layer_scale(channels: int, value: float) -> Optional[nn.Parameter]:
    return nn.Parameter(torch.full(
        (channels, ), float(value))) if value > 0 else None


def _check_norm(norm: nn.Module, bn_layout: bool, cfg: dict) -> None:
    if not bn_layout and not isinstance(norm, nn.LayerNorm):
        raise ValueError(
            f'EdgeNeXt (LayerNorm layout) normalises every position over its '
            f'channels, so norm_cfg must be LN or LN2d; got {cfg}. Use a '
            f'*_bn_hs arch for BatchNorm.')
    if bn_layout and isinstance(
            norm, nn.LayerNorm) and not isinstance(norm, LayerNorm2d):
        raise ValueError(f'EdgeNeXt (BN layout) applies its norms to NCHW '
                         f'maps; use BN, SyncBN, GN or LN2d, got {cfg}')


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
    """

    def __init__(self, channels: int, kernel_size: int, mlp_ratio: float,
                 norm_cfg: dict, act_cfg: dict, layer_scale_init_value: float,
                 drop_path_rate: float, bn_layout: bool) -> None:
        super().__init__()
        self.bn_layout = bn_layout
        self.depthwise_conv = nn.Conv2d(
            channels,
            channels,
            kernel_size,
            padding=kernel_size // 2,
            groups=channels,
            bias=not bn_layout)  # official: no bias before the BN
        self.norm = build_norm_layer(norm_cfg, channels)
        _check_norm(self.norm, bn_layout, norm_cfg)
        self._build_mlp(channels, mlp_ratio, act_cfg, layer_scale_init_value,
                        drop_path_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, H, W, C) -> NCHW view for the DW conv -> (B, H, W, C)
        y = self.depthwise_conv(x.permute(0, 3, 1, 2))
        if self.bn_layout:
            y = self.norm(y).permute(0, 2, 3, 1)
        else:
            y = _layer_norm(self.norm, y.permute(0, 2, 3, 1))
        return self._mlp_residual(x, y)

    @torch.no_grad()
    def switch_to_deploy(self) -> None:
        """Fold BN into the DW conv (BN layout) and the layer scale into
        ``pointwise_conv2``."""
        if self.deploy:
            return
        affine = _affine_of(self.norm)
        if self.bn_layout and isinstance(self.norm, _BatchNorm) and affine:
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
    """

    def __init__(self, channels: int, num_heads: int, splits: int,
                 use_pos_embed: bool, mlp_ratio: float, norm_cfg: dict,
                 act_cfg: dict, layer_scale_init_value: float,
                 drop_path_rate: float, bn_layout: bool) -> None:
        super().__init__()
        width = math.ceil(channels / splits)
        self.width = width
        self.bn_layout = bn_layout
        self.conv_modules = nn.ModuleList(
            nn.Conv2d(width, width, 3, padding=1, groups=width)
            for _ in range(splits - 1))
        self.pos_embed = FourierPositionEncoding(
            channels) if use_pos_embed else None
        self.norm_csa = build_norm_layer(norm_cfg, channels)
        _check_norm(self.norm_csa, bn_layout, norm_cfg)
        self.gamma_csa = _layer_scale(channels, layer_scale_init_value)
        self.csa = TransposedAttention(channels, num_heads)
        self.norm = build_norm_layer(norm_cfg, channels)
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
        u = t if self.bn_layout else _layer_norm(self.norm_csa, t)
        # (B, H, W, C) -> (B, N, C) views
        t = self.csa(
            u.reshape(b, h * w, c), t.reshape(b, h * w, c), self.gamma_csa,
            self.drop_path).view(b, h, w, c)
        y = _map_norm(self.norm, t) if self.bn_layout else _layer_norm(
            self.norm, t)
        return self._mlp_residual(x, y)

    @torch.no_grad()
    def switch_to_deploy(self) -> None:
        """Fold the layer scales into ``csa.proj`` / ``pointwise_conv2`` and the norm
        before the MLP (BN layout: the eval BN) into ``pointwise_conv1``. The
        BN-layout ``norm_csa`` stays: the attention residual starts from its output."""
        if self.deploy:
            return
        affine = _affine_of(self.norm)
        if affine:
            _fold_into_input(self.pointwise_conv1, *affine)
            self.norm = nn.Identity()
        if self.gamma_csa is not None:
            _fold_scale_into_output(self.csa.proj, self.gamma_csa)
            self.gamma_csa = None
        self._fold_layer_scale()


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
    have strides 4/8/16/32 and no extra norm.

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
        init_cfg (dict | list[dict], optional): None gives the official init
            (trunc-normal std 0.02 for conv / Linear weights, zero biases, unit LN).
            Defaults to None.

    Sizes: any H x W works; the non-overlapping patchify convs floor, as official
    (250 x 330 gives 62x82, 31x41, 15x20, 7x10). Below 32 pixels, a 1-pixel map is
    zero-padded to 2 before a 2x2 downsampling (and an input below 4 to 4), so every
    stage keeps at least one pixel (e.g. 20 x 45 gives 5x11, 2x5, 1x2, 1x1).

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
          ``gap_before_final_norm=True``; all stages are always computed.

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
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(arch, out_indices, frozen_stages, norm_eval, with_cp,
                         init_cfg)
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

        def norm(c):
            layer = build_norm_layer(norm_cfg, c)
            _check_norm(layer, bn, norm_cfg)
            return layer

        # official: the *_bn_hs stem / downsampling convs have no bias
        self.downsample_layers = nn.ModuleList([
            nn.Sequential(
                nn.Conv2d(in_channels, channels[0], 4, stride=4, bias=not bn),
                norm(channels[0]))
        ])
        self.stages = nn.ModuleList()
        for i in range(self.num_stages):
            if i > 0:
                conv = nn.Conv2d(
                    channels[i - 1], channels[i], 2, 2, bias=not bn)
                self.downsample_layers.append(
                    nn.Sequential(norm(channels[i - 1]), conv))
            blocks = [
                ConvEncoder(channels[i], _KERNEL_SIZES[i], mlp_ratio, norm_cfg,
                            act_cfg, layer_scale_init_value, dpr[i][j], bn)
                for j in range(depths[i] - (i > 0))
            ]
            if i > 0:  # official: one SDTA as the last block of stages 2-4
                blocks.append(
                    SDTAEncoder(channels[i], heads[i], _SPLITS[i],
                                _USE_POS_EMBED[i], mlp_ratio, norm_cfg,
                                act_cfg, layer_scale_init_value, dpr[i][-1],
                                bn))
            self.stages.append(nn.Sequential(*blocks))
        if self.gap_before_final_norm:
            for i in self.out_indices:
                self.add_module(f'norm{i}', norm(channels[i]))
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

    def _stem_modules(self) -> Sequence[nn.Module]:
        return [self.downsample_layers[0]]

    def _stage_modules(self, i: int) -> Sequence[nn.Module]:
        mods = [self.downsample_layers[i]] if i > 0 else []
        mods.append(self.stages[i])
        if hasattr(self, f'norm{i}'):
            mods.append(getattr(self, f'norm{i}'))
        return mods

    def _official_init(self) -> None:
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm) and m.weight is not None:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _norm(self, norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """A stem / downsampling norm on an NHWC tensor."""
        return _map_norm(norm, x) if self.bn_layout else _layer_norm(norm, x)

    def _output(self, i: int, x: torch.Tensor) -> torch.Tensor:
        if not self.gap_before_final_norm:
            return x.permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
        norm = getattr(self, f'norm{i}')
        if self.bn_layout:  # official: BN on the map, then pooling
            return norm(x.permute(0, 3, 1, 2)).mean((2, 3))
        return _layer_norm(norm, x.mean((1, 2)))  # official: pool, then LN

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        h, w = x.shape[-2:]
        if h < 4 or w < 4:  # tiny inputs: one stem patch at least
            x = F.pad(x, (0, max(4 - w, 0), 0, max(4 - h, 0)))
        # Channels-last input: the convs then return channels-last maps whose NHWC
        # views are contiguous, so no block needs a transposed copy.
        x = x.contiguous(memory_format=torch.channels_last)
        conv, norm = self.downsample_layers[0]
        x = self._norm(norm, conv(x).permute(0, 2, 3, 1))  # (B, H/4, W/4, C)
        outs = {}
        for i, stage in enumerate(self.stages):
            if i > 0:
                norm, conv = self.downsample_layers[i]
                x = self._norm(norm, x)
                if x.shape[1] == 1 or x.shape[2] == 1:  # inputs below 32
                    x = F.pad(x, (0, 0, 0, int(x.shape[2] == 1), 0,
                                  int(x.shape[1] == 1)))
                x = conv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
            for block in stage:
                x = self._run(block, x)
            if i in self.out_indices:
                outs[i] = self._output(i, x)
        return tuple(outs[i] for i in self.out_indices)

    @torch.no_grad()
    def switch_to_deploy(self) -> 'EdgeNeXt':
        """Fold the norms / layer scales listed in the class docstring (eval only)."""
        if not self.deploy:
            stem = self.downsample_layers[0]
            if isinstance(stem[1], _BatchNorm) and _affine_of(stem[1]):
                stem[0] = fuse_conv_bn(stem[0], stem[1])
                stem[1] = nn.Identity()
            for layer in self.downsample_layers[1:]:
                affine = _affine_of(layer[0])
                if affine:
                    _fold_into_input(layer[1], *affine)
                    layer[0] = nn.Identity()
        return super().switch_to_deploy()
