"""EMO: the Efficient MOdel built from inverted residual mobile blocks (iRMB)."""
from collections import OrderedDict
from typing import Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

from mmedge.registry import MODELS
from mmedge.utils.typing import OptConfigType, OptMultiConfig
from ..layers import (ConvNormAct, DropPath, build_act_layer, build_norm_layer,
                      crop_to, drop_path_rates, fuse_bn_into_next,
                      pad_to_multiple)
from .base import BaseEdgeBackbone

__all__ = ['IRMB', 'EMO']


class _SqueezeExcite(nn.Module):
    """Squeeze-and-excitation gate: GAP -> 1x1 conv -> act -> 1x1 conv -> sigmoid.

    Args:
        channels (int): Input (and output) channels.
        reduced_channels (int): Channels between the two 1x1 convs.
        act_cfg (dict): Activation between the two convs.
    """

    def __init__(self, channels: int, reduced_channels: int,
                 act_cfg: dict) -> None:
        super().__init__()
        self.conv_reduce = nn.Conv2d(channels, reduced_channels, 1)
        self.act = build_act_layer(act_cfg)
        self.conv_expand = nn.Conv2d(reduced_channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) -> (B, C, 1, 1)
        s = x.mean((2, 3), keepdim=True)
        s = self.conv_expand(self.act(self.conv_reduce(s)))
        return x * s.sigmoid()


class IRMB(nn.Module):
    """Inverted Residual Mobile Block (iRMB) of EMO.

    ``x + proj(SE(dwconv(act(v(EW-MHSA(norm(x)))))))`` with an inner skip around the
    depth-wise conv. The Expanded-Window MHSA attends over the *normalised, unexpanded*
    input (queries/keys from a 1x1 ``qk`` conv, values = the input itself) and the
    expansion ``v`` (MLP_e) follows it, as in the released models (``attn_pre=True``).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        expand_ratio (float): Hidden channels are ``int(in_channels * expand_ratio)``
            (relative to the *input* width). Defaults to 1.0.
        kernel_size (int): Depth-wise kernel size (odd). Defaults to 3.
        stride (int): Depth-wise conv stride. Defaults to 1.
        has_skip (bool): Use the outer and inner skips (only applied when
            ``in_channels == out_channels`` and ``stride == 1``). Defaults to True.
        use_attn (bool): Enable the EW-MHSA. Defaults to False.
        head_dim (int): Channels per attention head. Defaults to 32.
        window_size (int): Attention groups are ``window_size x window_size`` tokens on a
            strided grid; ``<= 0`` gives global attention. Defaults to 7.
        qkv_bias (bool): Bias in ``qk`` and ``v``. Defaults to True.
        se_ratio (float): Squeeze-excite reduction ratio after the depth-wise conv; 0
            disables it. Defaults to 0.
        v_proj (bool): Use the expansion conv ``v`` (with its activation). Defaults to True.
        drop_path_rate (float): Stochastic depth of the residual branch. Defaults to 0.
        norm_cfg (dict, optional): Pre-norm; None gives no pre-norm.
            Defaults to ``dict(type='BN', eps=1e-6)``.
        act_cfg (dict): Activation after ``v``. Defaults to ``dict(type='SiLU')``.
        dw_norm_cfg (dict): Norm after the depth-wise conv.
            Defaults to ``dict(type='BN', eps=1e-6)``.
        dw_act_cfg (dict): Activation after the depth-wise conv and inside the SE.
            Defaults to ``dict(type='SiLU')``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        expand_ratio: float = 1.0,
        kernel_size: int = 3,
        stride: int = 1,
        has_skip: bool = True,
        use_attn: bool = False,
        head_dim: int = 32,
        window_size: int = 7,
        qkv_bias: bool = True,
        se_ratio: float = 0.,
        v_proj: bool = True,
        drop_path_rate: float = 0.,
        norm_cfg: OptConfigType = dict(type='BN', eps=1e-6),
        act_cfg: dict = dict(type='SiLU'),
        dw_norm_cfg: dict = dict(type='BN', eps=1e-6),
        dw_act_cfg: dict = dict(type='SiLU')
    ) -> None:
        super().__init__()
        mid_channels = int(in_channels * expand_ratio)
        if not v_proj and mid_channels != in_channels:
            raise ValueError('IRMB: v_proj=False needs expand_ratio=1')
        self.has_skip = bool(has_skip) and in_channels == out_channels \
            and stride == 1
        self.use_attn = bool(use_attn)
        self.deploy = False
        self.norm = build_norm_layer(norm_cfg, in_channels)
        if self.use_attn:
            if in_channels % head_dim:
                raise ValueError(f'IRMB: {in_channels} channels are not '
                                 f'divisible by head_dim={head_dim}')
            self.head_dim = head_dim
            self.num_heads = in_channels // head_dim
            self.window_size = int(window_size)
            # official: [q; k] stacked qk-major along the channels
            self.qk = nn.Conv2d(in_channels, 2 * in_channels, 1, bias=qkv_bias)
        if v_proj:
            self.v = nn.Conv2d(in_channels, mid_channels, 1, bias=qkv_bias)
            self.act = build_act_layer(act_cfg)
        else:
            self.v = nn.Identity()
            self.act = nn.Identity()
        self.conv_local = ConvNormAct(
            mid_channels,
            mid_channels,
            kernel_size,
            stride=stride,
            groups=mid_channels,
            bias=False,
            norm_cfg=dw_norm_cfg,
            act_cfg=dw_act_cfg)
        self.se = _SqueezeExcite(mid_channels, round(mid_channels * se_ratio),
                                 dw_act_cfg) if se_ratio > 0 else None
        # official: MLP_s is linear without bias
        self.proj = nn.Conv2d(mid_channels, out_channels, 1, bias=False)
        self.drop_path = DropPath(drop_path_rate) if self.has_skip \
            else nn.Identity()

    def _attention(self, x: torch.Tensor) -> torch.Tensor:
        """EW-MHSA on the normalised input; returns (B, C, H, W) before the expansion."""
        B, C, H, W = x.shape
        if self.window_size > 0:
            # official: zero-pad after the norm; padded tokens join unmasked
            x, _ = pad_to_multiple(x, self.window_size)
            wh = ww = self.window_size
        else:
            wh, ww = H, W
        Hp, Wp = x.shape[-2:]
        n1, n2 = Hp // wh, Wp // ww
        heads, d, L = self.num_heads, self.head_dim, wh * ww
        # official grid partition 'b c (h1 n1) (w1 n2) -> (b n1 n2) c h1 w1': group (a, b)
        # holds the pixels (i * n1 + a, j * n2 + b), a strided grid, not a block.
        # (B, 2C, Hp, Wp) -> (2, B * n1 * n2, heads, L, d)
        qk = self.qk(x).reshape(B, 2, heads, d, wh, n1, ww, n2)
        qk = qk.permute(1, 0, 5, 7, 2, 4, 6, 3).reshape(2, -1, heads, L, d)
        # values = the normalised input: (B, C, Hp, Wp) -> (B * n1 * n2, heads, L, d)
        v = x.reshape(B, heads, d, wh, n1, ww, n2)
        v = v.permute(0, 4, 6, 1, 3, 5, 2).reshape(-1, heads, L, d)
        # official scale head_dim ** -0.5: SDPA's default (no ``scale`` argument, so that
        # exporters that rewrite SDPA, e.g. mmdeploy, compute the same)
        out = F.scaled_dot_product_attention(qk[0], qk[1], v)
        # (B * n1 * n2, heads, L, d) -> (B, heads, d, wh, n1, ww, n2) -> (B, C, Hp, Wp)
        out = out.reshape(B, n1, n2, heads, wh, ww, d)
        out = out.permute(0, 3, 6, 4, 1, 5, 2).reshape(B, C, Hp, Wp)
        # ``v`` is point-wise, so cropping before it equals the official crop after it
        return crop_to(out, (H, W))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.norm(x)
        if self.use_attn:
            x = self._attention(x)
        x = self.act(self.v(x))
        y = self.conv_local(x)
        if self.se is not None:
            y = self.se(y)
        x = x + y if self.has_skip else y
        x = self.proj(x)
        if self.has_skip:
            x = shortcut + self.drop_path(x)
        return x

    @torch.no_grad()
    def switch_to_deploy(self) -> None:
        """Fold a BatchNorm pre-norm into the 1x1 ``v`` when nothing else reads it."""
        if self.deploy:
            return
        if isinstance(self.norm, _BatchNorm) and not self.use_attn and \
                isinstance(self.v, nn.Conv2d):
            self.v = fuse_bn_into_next(self.norm, self.v)
            self.norm = nn.Identity()
        self.conv_local.switch_to_deploy()
        self.deploy = True


@MODELS.register_module()
class EMO(BaseEdgeBackbone):
    """EMO backbone.

    A PyTorch implementation of `Rethinking Mobile Block for Efficient Attention-based
    Models <https://arxiv.org/abs/2301.01146>`_ (ICCV 2023).

    Modified from the `official repo
    <https://github.com/zhangzjn/EMO/tree/27d9b40fea9c2a12a2fe7acc51032184852a99d8>`_
    (``model/emo.py`` and the mmdet/mmseg backbone in ``down-stream-tasks``; see the
    repository for its license).

    A stride-2 stem (3x3 conv + BN, then an iRMB with depth-wise conv and SE) and four
    stages of iRMBs. Each stage's first block down-samples (stride-2 depth-wise conv, no
    skip, no attention, **twice** the stage's expansion ratio on its input width); the
    other blocks use the EW-MHSA in the ``attn_stages`` (stages 3-4 by default), with
    LN + GELU there and BN + SiLU elsewhere.

    Args:
        arch (str | dict): ``'1m'``, ``'2m'``, ``'5m'``, ``'6m'``, or a dict with the keys
            ``depths``, ``channels``, ``expand_ratios`` and ``head_dims`` (four entries
            each). Defaults to '1m' (the smallest variant, as for every family).
        in_channels (int): Input image channels. Defaults to 3.
        stem_channels (int): Stem width. Defaults to 24.
        kernel_sizes (Sequence[int]): Depth-wise kernel size per stage (the stem uses
            the first). Defaults to (3, 3, 5, 5).
        attn_stages (Sequence[bool]): Stages whose blocks (except the first) use the
            EW-MHSA; these stages use ``attn_norm_cfg`` / ``attn_act_cfg``.
            Defaults to (False, False, True, True).
        window_size (int | Sequence[int]): Attention window per stage (an int for all).
            The official configs use 7 for ImageNet, SSDLite and RetinaNet, 10 for
            SSDLite / RetinaNet with EMO-5M and 16 for segmentation with EMO-5M.
            ``<= 0`` gives global attention. Defaults to 7.
        qkv_bias (bool): Bias in the ``qk`` and ``v`` 1x1 convs. Defaults to True.
        out_indices (int | Sequence[int]): Output stages, 0..3 = strides 4..32.
            Defaults to (0, 1, 2, 3).
        frozen_stages (int): -1: nothing, 0: the stem, k: the stem and stages 0..k-1.
            Defaults to -1.
        norm_eval (bool): Keep BatchNorms in eval mode in training. Defaults to False.
        drop_path_rate (float): Stochastic depth of the last block (linear over all
            stage blocks; the official models use 0.04036 for 1M, 0.05 for the others).
            Defaults to 0.
        norm_cfg (dict): Every BatchNorm: the stem, each depth-wise conv and the pre-norm
            of the non-attention stages. Defaults to ``dict(type='BN', eps=1e-6)``.
        act_cfg (dict): Activation of the non-attention stages, of every depth-wise conv
            and of the stem SE. Defaults to ``dict(type='SiLU')``.
        attn_norm_cfg (dict): Pre-norm of the blocks of the attention stages.
            Defaults to ``dict(type='LN2d', eps=1e-6)``.
        attn_act_cfg (dict): Activation after the expansion in the attention stages.
            Defaults to ``dict(type='GELU')`` (exact erf).
        with_cp (bool): Gradient checkpointing per block. Defaults to False.
        deploy (bool): Build the fused form of ``switch_to_deploy()`` directly (loads
            fused state dicts strictly). Defaults to False.
        output_stride (int): Only 32: this family has no exact dilated form (see
            :class:`BaseEdgeBackbone`). Defaults to 32.
        init_cfg (dict | list[dict], optional): Initialisation config; None gives the
            official init (norms weight 1, bias 0; convs keep PyTorch's default).
            Defaults to None.

    Note:
        * The official backbone also returns the stride-2 stem output (its index 0, so
          its ``out_indices=(1, 2, 3, 4)`` are ours ``(0, 1, 2, 3)`` and SSDLite's
          ``(3, 4)`` is ``(2, 3)``). It is not an output here; ``model.stem(x)`` (or a
          forward hook on ``model.stem``) gives it.
        * Sizes: every stride-2 conv pads ``k // 2``, so each stage has
          ``ceil(H / 2)`` of the previous rows (250x330 -> 63x83, 32x42, 16x21, 8x11).
          The attention zero-pads each map to a multiple of the window (padded tokens
          take part unmasked, as in the official code) and crops back.
        * Attention uses ``F.scaled_dot_product_attention`` and applies ``qk`` and ``v``
          on the whole map instead of per group (both are point-wise: same result).
        * ``switch_to_deploy()`` folds the BN after the stem conv and after every
          depth-wise conv into that conv, and the BN pre-norm of blocks without
          attention into their 1x1 expansion ``v``. LayerNorms are not fused.

    Example:
        >>> import torch
        >>> from mmedge.models import EMO
        >>> model = EMO(arch='1m').eval()
        >>> with torch.no_grad():
        ...     outs = model(torch.rand(1, 3, 250, 330))
        >>> for out in outs:
        ...     print(tuple(out.shape))
        (1, 32, 63, 83)
        (1, 48, 32, 42)
        (1, 80, 16, 21)
        (1, 168, 8, 11)
    """
    arch_settings = {
        '1m':
        dict(
            depths=(2, 2, 8, 3),
            channels=(32, 48, 80, 168),
            expand_ratios=(2.0, 2.5, 3.0, 3.5),
            head_dims=(16, 16, 20, 21)),
        '2m':
        dict(
            depths=(3, 3, 9, 3),
            channels=(32, 48, 120, 200),
            expand_ratios=(2.0, 2.5, 3.0, 3.5),
            head_dims=(16, 16, 20, 20)),
        '5m':
        dict(
            depths=(3, 3, 9, 3),
            channels=(48, 72, 160, 288),
            expand_ratios=(2.0, 3.0, 4.0, 4.0),
            head_dims=(24, 24, 32, 32)),
        '6m':
        dict(
            depths=(3, 3, 9, 3),
            channels=(48, 72, 160, 320),
            expand_ratios=(2.0, 3.0, 4.0, 5.0),
            head_dims=(16, 24, 20, 32)),
    }
    converter = 'emo'

    def __init__(self,
                 arch: Union[str, dict] = '1m',
                 in_channels: int = 3,
                 stem_channels: int = 24,
                 kernel_sizes: Sequence[int] = (3, 3, 5, 5),
                 attn_stages: Sequence[bool] = (False, False, True, True),
                 window_size: Union[int, Sequence[int]] = 7,
                 qkv_bias: bool = True,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 drop_path_rate: float = 0.,
                 norm_cfg: dict = dict(type='BN', eps=1e-6),
                 act_cfg: dict = dict(type='SiLU'),
                 attn_norm_cfg: dict = dict(type='LN2d', eps=1e-6),
                 attn_act_cfg: dict = dict(type='GELU'),
                 with_cp: bool = False,
                 deploy: bool = False,
                 output_stride: int = 32,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(arch, in_channels, out_indices, frozen_stages,
                         norm_eval, with_cp, deploy, output_stride, init_cfg)
        depths, channels, ratios, head_dims = (
            tuple(self.arch[k])
            for k in ('depths', 'channels', 'expand_ratios', 'head_dims'))
        kernel_sizes = tuple(kernel_sizes)
        attn_stages = tuple(bool(a) for a in attn_stages)
        if isinstance(window_size, int):
            window_sizes = (window_size, ) * 4
        elif isinstance(window_size, Sequence) and \
                not isinstance(window_size, str):
            window_sizes = tuple(window_size)
        else:
            raise ValueError(f'EMO: window_size must be an int or 4 ints, '
                             f'got {window_size!r}')
        self._check_args(depths, channels, ratios, head_dims, kernel_sizes,
                         attn_stages, window_sizes)
        self.out_channels = channels

        self.stem = nn.Sequential(
            OrderedDict(
                conv=ConvNormAct(
                    in_channels,
                    stem_channels,
                    kernel_sizes[0],
                    stride=2,
                    bias=True,  # official: the stem conv has a bias before BN
                    norm_cfg=norm_cfg,
                    act_cfg=None),
                block=IRMB(
                    stem_channels,
                    stem_channels,
                    kernel_size=kernel_sizes[0],
                    has_skip=False,
                    se_ratio=1.,  # official: the only SE of the network
                    v_proj=False,
                    norm_cfg=None,
                    dw_norm_cfg=norm_cfg,
                    dw_act_cfg=act_cfg)))

        dprs = drop_path_rates(depths, drop_path_rate)
        self.stages = nn.ModuleList()
        prev = stem_channels
        for i in range(4):
            blocks = []
            for j in range(depths[i]):
                first = j == 0
                blocks.append(
                    IRMB(
                        prev,
                        channels[i],
                        # official: the down-sampling block doubles the ratio
                        expand_ratio=ratios[i] * 2 if first else ratios[i],
                        kernel_size=kernel_sizes[i],
                        stride=2 if first else 1,
                        has_skip=not first,
                        use_attn=attn_stages[i] and not first,
                        head_dim=head_dims[i],
                        window_size=window_sizes[i],
                        qkv_bias=qkv_bias,
                        drop_path_rate=dprs[i][j],
                        norm_cfg=attn_norm_cfg if attn_stages[i] else norm_cfg,
                        act_cfg=attn_act_cfg if attn_stages[i] else act_cfg,
                        dw_norm_cfg=norm_cfg,
                        dw_act_cfg=act_cfg))
                prev = channels[i]
            self.stages.append(nn.Sequential(*blocks))
        self._finish_init()

    @staticmethod
    def _check_args(depths, channels, ratios, head_dims, kernel_sizes,
                    attn_stages, window_sizes) -> None:
        named = dict(
            depths=depths,
            channels=channels,
            expand_ratios=ratios,
            head_dims=head_dims,
            kernel_sizes=kernel_sizes,
            attn_stages=attn_stages,
            window_size=window_sizes)
        for name, value in named.items():
            if len(value) != 4:
                raise ValueError(f'EMO: {name} needs 4 entries (one per '
                                 f'stage), got {value!r}')
        if any(not isinstance(d, int) or d < 1 for d in depths):
            raise ValueError(f'EMO: depths must be ints >= 1, got {depths}')
        if any(not isinstance(k, int) or k % 2 == 0 for k in kernel_sizes):
            raise ValueError(
                f'EMO: kernel_sizes must be odd ints, got {kernel_sizes}')
        if any(not isinstance(w, int) for w in window_sizes):
            raise ValueError(f'EMO: window_size must be an int or 4 ints, got '
                             f'{window_sizes}')
        for i in range(4):
            if attn_stages[i] and depths[i] > 1 and \
                    channels[i] % head_dims[i]:
                raise ValueError(
                    f'EMO: stage {i} has {channels[i]} channels, not '
                    f'divisible by head_dims[{i}]={head_dims[i]}')
