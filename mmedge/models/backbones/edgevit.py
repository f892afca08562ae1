"""EdgeViT: a pyramid ViT of Local-Global-Local (LGL) blocks."""
from typing import List, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

from mmedge.registry import MODELS
from mmedge.utils.typing import OptMultiConfig
from ..layers import (DropPath, build_act_layer, build_layout_norm,
                      build_norm_layer, drop_path_rates, fuse_bn_into_next,
                      init_trunc_normal, pad_to_min_size)
from .base import BaseEdgeBackbone

__all__ = ['EdgeViT', 'LGLBlock']


def _build_token_norm(cfg: dict, dim: int, what: str) -> nn.LayerNorm:
    """A LayerNorm over the last (channel) dimension of token / NHWC tensors."""
    return build_layout_norm(
        cfg, dim, channels_last=True, owner='EdgeViT', what=what,
        allow_ln2d=False)


class _ConvPosEnc(nn.Conv2d):
    """Conditional positional encoding ``x + DWConv3x3(x)``.

    ``switch_to_deploy()`` adds the identity to the kernel centre, so the
    residual add disappears (exact).
    """

    def __init__(self, dim: int, deploy: bool = False) -> None:
        super().__init__(dim, dim, 3, padding=1, groups=dim, bias=True)
        self.deploy = deploy

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.deploy:
            return super().forward(x)
        return x + super().forward(x)

    @torch.no_grad()
    def switch_to_deploy(self) -> None:
        if self.deploy:
            return
        self.weight[:, 0, 1, 1] += 1.
        self.deploy = True


class _ConvMlp(nn.Module):
    """1x1 conv -> act -> 1x1 conv on NCHW maps."""

    def __init__(self, dim: int, hidden: int, act_cfg: dict) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.act = build_act_layer(act_cfg)
        self.fc2 = nn.Conv2d(hidden, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class _Mlp(nn.Module):
    """Linear -> act -> Linear on channels-last tensors."""

    def __init__(self, dim: int, hidden: int, act_cfg: dict) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = build_act_layer(act_cfg)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class _LocalAgg(nn.Module):
    """The local half of an LGL block (official ``LocalAgg``), NCHW in/out.

    ``x = cpe(x)``; ``x += PW(DW(PW(BN(x))))``; ``x += ConvMlp(BN(x))``.
    """

    def __init__(self, dim: int, mlp_ratio: float, kernel_size: int,
                 drop_path: float, norm_cfg: dict, act_cfg: dict,
                 deploy: bool) -> None:
        super().__init__()
        self.deploy = deploy
        self.cpe = _ConvPosEnc(dim, deploy)
        self.norm1 = build_norm_layer(norm_cfg, dim)
        self.pw_conv1 = nn.Conv2d(dim, dim, 1)
        self.dw_conv = nn.Conv2d(
            dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.pw_conv2 = nn.Conv2d(dim, dim, 1)
        self.norm2 = build_norm_layer(norm_cfg, dim)
        self.mlp = _ConvMlp(dim, int(dim * mlp_ratio), act_cfg)
        self.drop_path = DropPath(drop_path)
        if deploy:  # the BNs live in the 1x1 convs after them
            if isinstance(self.norm1, _BatchNorm):
                self.norm1 = nn.Identity()
            if isinstance(self.norm2, _BatchNorm):
                self.norm2 = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cpe(x)
        x = x + self.drop_path(
            self.pw_conv2(self.dw_conv(self.pw_conv1(self.norm1(x)))))
        return x + self.drop_path(self.mlp(self.norm2(x)))

    @torch.no_grad()
    def switch_to_deploy(self) -> None:
        """Fold ``norm1`` into ``pw_conv1`` and ``norm2`` into ``mlp.fc1``."""
        if self.deploy:
            return
        if isinstance(self.norm1, _BatchNorm):
            self.pw_conv1 = fuse_bn_into_next(self.norm1, self.pw_conv1)
            self.norm1 = nn.Identity()
        if isinstance(self.norm2, _BatchNorm):
            self.mlp.fc1 = fuse_bn_into_next(self.norm2, self.mlp.fc1)
            self.norm2 = nn.Identity()
        self.deploy = True


class _GlobalSparseAttn(nn.Module):
    """MHSA over the delegate tokens, then local propagation.

    Input: the normalised delegate tokens ``(B, h, w, C)`` (every
    ``sr_ratio``-th token from the top-left); output ``(B, H, W, C)``.
    """

    def __init__(self, dim: int, num_heads: int, sr_ratio: int, qkv_bias: bool,
                 norm_cfg: dict) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.sr_ratio = sr_ratio
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        if sr_ratio > 1:
            # official: depth-wise ConvTranspose2d, kernel = stride = sr_ratio
            self.local_prop = nn.ConvTranspose2d(
                dim, dim, sr_ratio, stride=sr_ratio, groups=dim)
            self.norm = _build_token_norm(norm_cfg, dim, 'embed_norm_cfg')

    def forward(self, x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        b, h, w, c = x.shape
        # (B, h, w, C) -> 3 x (B, heads, hw, C / heads)
        q, k, v = self.qkv(x).reshape(b, h * w, 3, self.num_heads,
                                      -1).permute(2, 0, 3, 1, 4).unbind(0)
        # official scale head_dim ** -0.5: SDPA's default (no ``scale`` argument, so that
        # exporters that rewrite SDPA, e.g. mmdeploy, compute the same)
        x = F.scaled_dot_product_attention(q, k, v)
        x = x.transpose(1, 2).reshape(b, h, w, c)
        r = self.sr_ratio
        if r > 1:
            # Depth-wise transposed conv with kernel = stride = r, written as
            # a broadcast in NHWC: each delegate fills its r x r window.
            # (B, h, 1, w, 1, C) * (r, 1, r, C) -> (B, h, r, w, r, C)
            weight = self.local_prop.weight[:, 0].permute(1, 2, 0)
            x = torch.addcmul(self.local_prop.bias, x[:, :, None, :, None],
                              weight[:, None])
            # (B, h*r, w*r, C) covers (H, W): crop the overhang
            x = x.reshape(b, h * r, w * r, c)[:, :size[0], :size[1]]
            x = self.norm(x)
        return self.proj(x)


class _SelfAttn(nn.Module):
    """The global half of an LGL block (official ``SelfAttn``), NCHW in/out.

    ``x = cpe(x)``; ``x += GSA(LN(x))``; ``x += Mlp(LN(x))`` on tokens.
    """

    def __init__(self, dim: int, num_heads: int, sr_ratio: int,
                 mlp_ratio: float, qkv_bias: bool, drop_path: float,
                 attn_norm_cfg: dict, embed_norm_cfg: dict, act_cfg: dict,
                 deploy: bool) -> None:
        super().__init__()
        self.sr_ratio = sr_ratio
        self.cpe = _ConvPosEnc(dim, deploy)
        self.norm1 = _build_token_norm(attn_norm_cfg, dim, 'attn_norm_cfg')
        self.attn = _GlobalSparseAttn(dim, num_heads, sr_ratio, qkv_bias,
                                      embed_norm_cfg)
        self.norm2 = _build_token_norm(attn_norm_cfg, dim, 'attn_norm_cfg')
        self.mlp = _Mlp(dim, int(dim * mlp_ratio), act_cfg)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cpe(x)
        size = x.shape[2:]
        x = x.permute(0, 2, 3, 1)  # (B, C, H, W) -> (B, H, W, C), a view
        r = self.sr_ratio
        # The official code normalises every token and then keeps every r-th
        # one (AvgPool2d(1, stride=r)); LN is per token, so sampling first is
        # identical and cheaper. Rows/cols: ceil(H / r), ceil(W / r).
        delegates = x[:, ::r, ::r] if r > 1 else x
        x = x + self.drop_path(self.attn(self.norm1(delegates), size))
        x = x + self.drop_path(self.mlp(self.norm2(x)))
        return x.permute(0, 3, 1, 2)  # (B, H, W, C) -> (B, C, H, W)


class LGLBlock(nn.Module):
    """Local-Global-Local block of EdgeViT.

    The local half (CPE, local aggregation, conv-MLP) exists only when
    ``sr_ratio > 1`` (official: the stride-32 stage has none); the global half
    is CPE, sparse attention on every ``sr_ratio``-th token with local
    propagation, and an MLP. One drop-path rate serves all four branches.

    Args:
        dim (int): Channels.
        num_heads (int): Attention heads.
        sr_ratio (int): Delegate-token sampling rate r.
        mlp_ratio (float): Hidden / input channels of both MLPs.
            Defaults to 4.
        qkv_bias (bool): Bias of the qkv projection. Defaults to True.
        local_kernel_size (int): Kernel of the local-aggregation depth-wise
            conv. Defaults to 5.
        drop_path (float): Stochastic-depth rate. Defaults to 0.
        norm_cfg (dict): Norm of the local half.
            Defaults to ``dict(type='BN', eps=1e-5)``.
        attn_norm_cfg (dict): Pre-norm of the attention and MLP.
            Defaults to ``dict(type='LN', eps=1e-6)``.
        embed_norm_cfg (dict): Norm after the local propagation.
            Defaults to ``dict(type='LN', eps=1e-5)``.
        act_cfg (dict): Activation of the MLPs.
            Defaults to ``dict(type='GELU')``.
        deploy (bool): Build the fused form directly. Defaults to False.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 sr_ratio: int,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 local_kernel_size: int = 5,
                 drop_path: float = 0.,
                 norm_cfg: dict = dict(type='BN', eps=1e-5),
                 attn_norm_cfg: dict = dict(type='LN', eps=1e-6),
                 embed_norm_cfg: dict = dict(type='LN', eps=1e-5),
                 act_cfg: dict = dict(type='GELU'),
                 deploy: bool = False) -> None:
        super().__init__()
        self.local_agg = _LocalAgg(dim, mlp_ratio, local_kernel_size,
                                   drop_path, norm_cfg, act_cfg,
                                   deploy) if sr_ratio > 1 else None
        self.self_attn = _SelfAttn(dim, num_heads, sr_ratio, mlp_ratio,
                                   qkv_bias, drop_path, attn_norm_cfg,
                                   embed_norm_cfg, act_cfg, deploy)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.local_agg is not None:
            x = self.local_agg(x)
        return self.self_attn(x)


class _PatchEmbed(nn.Module):
    """Non-overlapping patchify conv (kernel = stride) -> LayerNorm.

    A map smaller than the patch is zero-padded to one patch at the bottom / right (inputs
    below 32 pixels), as EdgeNeXt's patchify layers do.
    """

    def __init__(self, in_channels: int, out_channels: int, patch_size: int,
                 norm_cfg: dict) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(
            in_channels, out_channels, patch_size, stride=patch_size)
        self.norm = _build_token_norm(norm_cfg, out_channels, 'embed_norm_cfg')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = pad_to_min_size(x, self.patch_size)
        x = self.proj(x).permute(0, 2, 3, 1)  # (B, C, H, W) -> (B, H, W, C)
        return self.norm(x).permute(0, 3, 1, 2)


@MODELS.register_module()
class EdgeViT(BaseEdgeBackbone):
    """EdgeViT backbone.

    A PyTorch implementation of `EdgeViTs: Competing Light-weight CNNs on
    Mobile Devices with Vision Transformers
    <https://arxiv.org/abs/2205.03436>`_ (ECCV 2022).

    Modified from the `official repo
    <https://github.com/saic-fi/edgevit/blob/df3d070/src/edgevit.py>`_
    (the repository states no license).

    Four stages at strides 4/8/16/32. Each starts with a non-overlapping
    patchify conv (4x4 for the stem, then 2x2) and a LayerNorm, followed by
    LGL blocks (:class:`LGLBlock`).

    Args:
        arch (str | dict): ``'xxs'``, ``'xs'``, ``'s'`` or a dict with the
            keys ``embed_dims``, ``depths``, ``num_heads`` and ``sr_ratios``
            (4 entries each). Defaults to ``'xxs'``.
        in_channels (int): Input channels. Defaults to 3.
        out_indices (int | Sequence[int]): Stages to output (0..3).
            Defaults to (0, 1, 2, 3).
        frozen_stages (int): -1 freezes nothing, 0 the stem, k the stem and
            stages 0..k-1 (and the final norm with stage 3). Defaults to -1.
        mlp_ratio (float): Hidden / input channels of every MLP.
            Defaults to 4.
        qkv_bias (bool): Bias of the qkv projections. Defaults to True.
        local_kernel_size (int): Depth-wise kernel of the local aggregation
            (official code 5, paper 3). Defaults to 5.
        drop_path_rate (float): Stochastic depth, linear over the blocks.
            Defaults to 0.
        norm_cfg (dict): BatchNorms of the local halves and the final norm.
            Defaults to ``dict(type='BN', eps=1e-5)``.
        attn_norm_cfg (dict): LayerNorms before the attention and the MLP of
            the global halves. Defaults to ``dict(type='LN', eps=1e-6)``.
        embed_norm_cfg (dict): LayerNorms after the patch-embedding convs and
            after the local propagation. Defaults to
            ``dict(type='LN', eps=1e-5)``.
        act_cfg (dict): Activation of the MLPs.
            Defaults to ``dict(type='GELU')``.
        final_norm (bool): Apply ``norm_cfg`` to the stage-3 output (the
            official classifier's BatchNorm before pooling). For
            classification configs. Defaults to False.
        norm_eval (bool): Keep BatchNorms in eval mode in training.
            Defaults to False.
        with_cp (bool): Gradient checkpointing per block. Defaults to False.
        deploy (bool): Build the fused form of :meth:`switch_to_deploy`
            directly (loads fused state dicts). Defaults to False.
        output_stride (int): Only 32: this family has no exact dilated form (see
            :class:`BaseEdgeBackbone`). Defaults to 32.
        init_cfg (dict | list[dict], optional): ``None`` gives the official
            init (trunc-normal Linear, std 0.02). Defaults to None.

    Note:
        * Depths are the official code's (XS ``[1, 1, 3, 1]``,
          S ``[1, 2, 5, 3]``), not the paper's Table 1; heads are
          ``dim // head_dim`` as in the code (XS/S stage 3 has 5 heads).
        * Any input size works and there is no image-size argument (the
          official code asserts a fixed size and needs multiples of 32).
          Every patchify conv floors (``H // 4``, then ``// 2`` per stage,
          e.g. 250x330 -> 62x82, 31x41, 15x20, 7x10). The sparse attention
          takes delegates at ``ceil(H / r) x ceil(W / r)`` positions, which
          equals zero-padding the map to a multiple of r without ever
          sampling the padding, and crops the local propagation back to
          ``H x W``. On multiples of 32 this is the official computation.
          Below 32 pixels, a map smaller than a patch is zero-padded to one
          patch first (as in EdgeNeXt), so every stage keeps at least one
          pixel (8x8 -> 2x2, 1x1, 1x1, 1x1; 17x17 -> 4x4, 2x2, 1x1, 1x1).
        * ``switch_to_deploy()`` folds the BatchNorm before each 1x1 conv of
          the local halves into it (``norm1`` -> ``pw_conv1``, ``norm2`` ->
          ``mlp.fc1``; exact, the 1x1 convs have no padding) and the
          identity of every CPE ``x + DWConv(x)`` into its kernel. The final
          norm (``final_norm=True``) stays.

    Example:
        >>> import torch
        >>> from mmedge.models import EdgeViT
        >>> model = EdgeViT(arch='xxs').eval()
        >>> for out in model(torch.rand(1, 3, 224, 224)):
        ...     print(tuple(out.shape))
        (1, 36, 56, 56)
        (1, 72, 28, 28)
        (1, 144, 14, 14)
        (1, 288, 7, 7)
        >>> for out in model(torch.rand(1, 3, 250, 330)):
        ...     print(tuple(out.shape))
        (1, 36, 62, 82)
        (1, 72, 31, 41)
        (1, 144, 15, 20)
        (1, 288, 7, 10)
    """
    # embed_dims: channels per stage; depths: LGL blocks per stage (official
    # code, not paper Table 1); num_heads: dim // head_dim (head_dim 36 for
    # xxs, 48 otherwise); sr_ratios: delegate sampling rate r per stage.
    arch_settings = {
        'xxs':
        dict(
            embed_dims=(36, 72, 144, 288),
            depths=(1, 1, 3, 2),
            num_heads=(1, 2, 4, 8),
            sr_ratios=(4, 2, 2, 1)),
        'xs':
        dict(
            embed_dims=(48, 96, 240, 384),
            depths=(1, 1, 3, 1),
            num_heads=(1, 2, 5, 8),
            sr_ratios=(4, 2, 2, 1)),
        's':
        dict(
            embed_dims=(48, 96, 240, 384),
            depths=(1, 2, 5, 3),
            num_heads=(1, 2, 5, 8),
            sr_ratios=(4, 2, 2, 1)),
    }
    converter = 'edgevit'

    def __init__(self,
                 arch: Union[str, dict] = 'xxs',
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 local_kernel_size: int = 5,
                 drop_path_rate: float = 0.,
                 norm_cfg: dict = dict(type='BN', eps=1e-5),
                 attn_norm_cfg: dict = dict(type='LN', eps=1e-6),
                 embed_norm_cfg: dict = dict(type='LN', eps=1e-5),
                 act_cfg: dict = dict(type='GELU'),
                 final_norm: bool = False,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 deploy: bool = False,
                 output_stride: int = 32,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(arch, in_channels, out_indices, frozen_stages,
                         norm_eval, with_cp, deploy, output_stride, init_cfg)
        self._check_arch(self.arch)
        if local_kernel_size < 1 or local_kernel_size % 2 == 0:
            raise ValueError(f'EdgeViT: local_kernel_size must be odd and '
                             f'positive, got {local_kernel_size}')
        dims = tuple(self.arch['embed_dims'])
        depths = tuple(self.arch['depths'])
        self.out_channels = dims
        self.final_norm = bool(final_norm)
        dpr = drop_path_rates(depths, drop_path_rate)

        self.patch_embeds = nn.ModuleList()
        self.stages = nn.ModuleList()
        for i in range(self.num_stages):
            self.patch_embeds.append(
                _PatchEmbed(in_channels if i == 0 else dims[i - 1], dims[i],
                            4 if i == 0 else 2, embed_norm_cfg))
            self.stages.append(
                nn.Sequential(*[
                    LGLBlock(
                        dims[i],
                        self.arch['num_heads'][i],
                        self.arch['sr_ratios'][i],
                        mlp_ratio=mlp_ratio,
                        qkv_bias=qkv_bias,
                        local_kernel_size=local_kernel_size,
                        drop_path=dpr[i][j],
                        norm_cfg=norm_cfg,
                        attn_norm_cfg=attn_norm_cfg,
                        embed_norm_cfg=embed_norm_cfg,
                        act_cfg=act_cfg,
                        deploy=deploy) for j in range(depths[i])
                ]))
        if self.final_norm:
            self.norm = build_norm_layer(norm_cfg, dims[-1])
        self.deploy = bool(deploy)  # the blocks above are built fused already
        self._finish_init()

    @staticmethod
    def _check_arch(arch: dict) -> None:
        for key, value in arch.items():
            if len(value) != 4 or not all(
                    isinstance(v, int) and not isinstance(v, bool)
                    for v in value):
                raise ValueError(f'EdgeViT: arch[{key!r}] must hold 4 ints, '
                                 f'got {value!r}')
        for i, (dim, heads, r, depth) in enumerate(
                zip(arch['embed_dims'], arch['num_heads'], arch['sr_ratios'],
                    arch['depths'])):
            if dim < 1 or heads < 1 or dim % heads or r < 1 or depth < 0:
                raise ValueError(
                    f'EdgeViT: stage {i} needs embed_dims divisible by '
                    f'num_heads, sr_ratios >= 1 and depths >= 0; got '
                    f'dim={dim}, heads={heads}, sr_ratio={r}, depth={depth}')

    def _stem_blocks(self) -> List[nn.Module]:
        return [self.patch_embeds[0]]

    def _stage_blocks(self, i: int) -> List[nn.Module]:
        head = [self.patch_embeds[i]] if i > 0 else []
        return head + list(self.stages[i])

    def _stage_modules(self, i: int) -> List[nn.Module]:
        mods = self._stage_blocks(i)
        if i == self.num_stages - 1 and self.final_norm:
            mods.append(self.norm)
        return mods

    def _stage_output(self, i: int, x: torch.Tensor) -> torch.Tensor:
        if i == self.num_stages - 1 and self.final_norm:
            x = self.norm(x)
        return x.contiguous()

    def _official_init(self) -> None:
        # official: trunc_normal(std .02) Linear weights, zero biases, LN 1/0;
        # convs keep PyTorch's init.
        init_trunc_normal(self, layer_types=(nn.Linear, ))
