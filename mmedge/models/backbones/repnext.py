"""RepNeXt: a multi-scale CNN with structural re-parameterisation."""
from typing import List, Sequence, Union

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmedge.registry import MODELS
from mmedge.utils.typing import OptMultiConfig
from ..layers import (ConvNormAct, DropPath, build_act_layer, build_norm_layer,
                      dilate_kernel, drop_path_rates, pad_kernel)
from .base import BaseEdgeBackbone

__all__ = ['RepNeXt']


def _dw_conv(channels: int,
             kernel_size,
             stride=1,
             padding=0,
             dilation: int = 1,
             bias: bool = True) -> nn.Conv2d:
    """A depthwise conv (groups = channels)."""
    return nn.Conv2d(
        channels,
        channels,
        kernel_size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=channels,
        bias=bias)


def _fused_dw_conv(weight: torch.Tensor, bias: torch.Tensor, stride: int,
                   padding: int) -> nn.Conv2d:
    """A depthwise conv holding the given (C, 1, k, k) kernel and bias."""
    conv = _dw_conv(weight.shape[0], weight.shape[-2:], stride,
                    padding).to(weight.device, weight.dtype)
    conv.weight.copy_(weight)
    conv.bias.copy_(bias)
    return conv


def _serial_kernel(row: torch.Tensor, col: torch.Tensor) -> torch.Tensor:
    """Depthwise ``1 x k`` then ``k x 1`` (no bias) as one ``k x k`` kernel.

    ``W[c, u, v] = col[c, u] * row[c, v]``: (C, 1, 1, k) * (C, 1, k, 1) -> (C, 1, k, k). Exact
    at the borders too, because the first conv has no bias (zero rows stay zero).
    """
    return col * row


def _conv_norm(in_channels: int, out_channels: int, kernel_size: int,
               stride: int, norm_cfg: dict, deploy: bool) -> ConvNormAct:
    """The official ``ConvNorm`` (conv without bias + BN); a conv with bias when deployed."""
    return ConvNormAct(
        in_channels,
        out_channels,
        kernel_size,
        stride=stride,
        padding=(kernel_size - 1) // 2,
        bias=deploy,
        norm_cfg=None if deploy else norm_cfg)


def _mlp(channels: int, hidden: int, norm_cfg: dict, act_cfg: dict,
         deploy: bool) -> nn.Sequential:
    """Channel mixer: ConvNorm 1x1 (C -> hidden), act, ConvNorm 1x1 (hidden -> C)."""
    return nn.Sequential(
        _conv_norm(channels, hidden, 1, 1, norm_cfg, deploy),
        build_act_layer(act_cfg),
        _conv_norm(hidden, channels, 1, 1, norm_cfg, deploy))


class RepDWConvS(nn.Module):
    """Small-kernel branch (Eq. 6): DW 3x3 + 1x3 + 3x1 + dilated 2x2, summed.

    At stride 1 the strips run in parallel; at stride 2 (copy conv) they run in series, 1x3 then
    3x1, without bias. :meth:`fuse` returns the equivalent single DW 3x3 conv.
    """

    def __init__(self, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.stride = stride
        self.conv_3_3 = _dw_conv(channels, 3, stride, 1)
        # official: the strips have a bias only at stride 1; a bias of the first serial strip
        # would not fold exactly at the borders.
        strip_bias = stride == 1
        self.conv_3_w = _dw_conv(
            channels, (1, 3), (1, stride), (0, 1), bias=strip_bias)
        self.conv_3_h = _dw_conv(
            channels, (3, 1), (stride, 1), (1, 0), bias=strip_bias)
        # taps at the four corners of a 3x3 window
        self.conv_2_2 = _dw_conv(channels, 2, stride, 1, dilation=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return (self.conv_3_3(x) + self.conv_3_h(x) + self.conv_3_w(x) +
                    self.conv_2_2(x))
        return (self.conv_3_3(x) + self.conv_3_h(self.conv_3_w(x)) +
                self.conv_2_2(x))

    @torch.no_grad()
    def fuse(self) -> nn.Conv2d:
        """The single DW 3x3 conv (with bias) equal to this module."""
        weight = self.conv_3_3.weight + dilate_kernel(self.conv_2_2.weight, 2)
        bias = self.conv_3_3.bias + self.conv_2_2.bias
        if self.stride == 1:
            weight = weight + pad_kernel(self.conv_3_w.weight, (3, 3)) + \
                pad_kernel(self.conv_3_h.weight, (3, 3))
            bias = bias + self.conv_3_w.bias + self.conv_3_h.bias
        else:
            weight = weight + _serial_kernel(self.conv_3_w.weight,
                                             self.conv_3_h.weight)
        return _fused_dw_conv(weight, bias, self.stride, 1)


class RepDWConvM(nn.Module):
    """Medium-kernel branch (Eq. 6): DW 7x7 + 5x3 + 3x5 + (1x7 -> 7x1) + (1x5 -> 5x1).

    The serial strip pairs have no bias. :meth:`fuse` returns the equivalent DW 7x7 conv.
    """

    def __init__(self, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.stride = stride
        self.conv_7_7 = _dw_conv(channels, 7, stride, 3)
        self.conv_5_3 = _dw_conv(channels, (5, 3), stride, (2, 1))
        self.conv_3_5 = _dw_conv(channels, (3, 5), stride, (1, 2))
        self.conv_7_w = _dw_conv(
            channels, (1, 7), (1, stride), (0, 3), bias=False)
        self.conv_7_h = _dw_conv(
            channels, (7, 1), (stride, 1), (3, 0), bias=False)
        self.conv_5_w = _dw_conv(
            channels, (1, 5), (1, stride), (0, 2), bias=False)
        self.conv_5_h = _dw_conv(
            channels, (5, 1), (stride, 1), (2, 0), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.conv_7_7(x) + self.conv_5_3(x) + self.conv_3_5(x) +
                self.conv_7_h(self.conv_7_w(x)) +
                self.conv_5_h(self.conv_5_w(x)))

    @torch.no_grad()
    def fuse(self) -> nn.Conv2d:
        """The single DW 7x7 conv (with bias) equal to this module."""
        size = (7, 7)
        weight = (
            self.conv_7_7.weight + pad_kernel(self.conv_5_3.weight, size) +
            pad_kernel(self.conv_3_5.weight, size) +
            _serial_kernel(self.conv_7_w.weight, self.conv_7_h.weight) +
            pad_kernel(
                _serial_kernel(self.conv_5_w.weight, self.conv_5_h.weight),
                size))
        bias = self.conv_7_7.bias + self.conv_5_3.bias + self.conv_3_5.bias
        return _fused_dw_conv(weight, bias, self.stride, 3)


class _RepTokenMixer(nn.Module):
    """Holds ``conv_s`` / ``conv_m`` branches and fuses them on ``switch_to_deploy``."""

    def _build_sm(self, channels: int, stride: int, deploy: bool) -> None:
        self.deploy = deploy
        if deploy:
            self.conv_s = _dw_conv(channels, 3, stride, 1)
            self.conv_m = _dw_conv(channels, 7, stride, 3)
        else:
            self.conv_s = RepDWConvS(channels, stride)
            self.conv_m = RepDWConvM(channels, stride)

    @torch.no_grad()
    def switch_to_deploy(self) -> None:
        """Replace the multi-branch ``conv_s`` / ``conv_m`` by single DW convs (idempotent)."""
        if self.deploy:
            return
        self.conv_s = self.conv_s.fuse()
        self.conv_m = self.conv_m.fuse()
        self.deploy = True


class ChunkConv(_RepTokenMixer):
    """Token mixer of a block (Eqs. 3-5): four channel chunks [identity, 3x3, 7x7, 1x11 -> 11x1].

    The large branch keeps its two strip convs in the deploy form: both have a bias, so they do
    not fold exactly into one 11x11 kernel (official behaviour).
    """

    def __init__(self, channels: int, deploy: bool = False) -> None:
        super().__init__()
        c = channels // 4
        self._build_sm(c, 1, deploy)
        self.conv_l = nn.Sequential(
            _dw_conv(c, (1, 11), 1, (0, 5)), _dw_conv(c, (11, 1), 1, (5, 0)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        i, s, m, l = torch.chunk(x, 4, dim=1)
        return torch.cat((i, self.conv_s(s), self.conv_m(m), self.conv_l(l)),
                         dim=1)


class CopyConv(_RepTokenMixer):
    """Down-sampling token mixer (Eqs. 7-8): [3x3 s2 (x), 7x7 s2 (x)], C -> 2C channels."""

    def __init__(self, channels: int, deploy: bool = False) -> None:
        super().__init__()
        self._build_sm(channels, 2, deploy)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) -> (B, 2C, ceil(H/2), ceil(W/2))
        return torch.cat((self.conv_s(x), self.conv_m(x)), dim=1)


class MetaNeXtBlock(nn.Module):
    """``x + drop_path(mlp(norm(chunk_conv(x))))`` (Eq. 1)."""

    def __init__(self,
                 channels: int,
                 mlp_ratio: int,
                 norm_cfg: dict,
                 act_cfg: dict,
                 drop_path: float = 0.,
                 deploy: bool = False) -> None:
        super().__init__()
        self.token_mixer = ChunkConv(channels, deploy)
        # official: a stand-alone BN after the token mixer, kept when deployed
        self.norm = build_norm_layer(norm_cfg, channels)
        self.channel_mixer = _mlp(channels, channels * mlp_ratio, norm_cfg,
                                  act_cfg, deploy)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else \
            nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop_path(
            self.channel_mixer(self.norm(self.token_mixer(x))))


class Downsample(nn.Module):
    """``y = norm(copy_conv(x)); y + mlp(y)`` (Eq. 2), C -> 2C at stride 2."""

    def __init__(self,
                 in_channels: int,
                 mlp_ratio: int,
                 norm_cfg: dict,
                 act_cfg: dict,
                 deploy: bool = False) -> None:
        super().__init__()
        out_channels = in_channels * 2
        self.token_mixer = CopyConv(in_channels, deploy)
        self.norm = build_norm_layer(norm_cfg, out_channels)
        self.channel_mixer = _mlp(out_channels, out_channels * mlp_ratio,
                                  norm_cfg, act_cfg, deploy)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.token_mixer(x))
        return x + self.channel_mixer(x)


class _Stage(nn.Module):
    """``downsample`` (Identity in stage 0) then ``blocks``."""

    def __init__(self, downsample: nn.Module, blocks: Sequence[nn.Module]):
        super().__init__()
        self.downsample = downsample
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.downsample(x))


@MODELS.register_module()
class RepNeXt(BaseEdgeBackbone):
    """RepNeXt backbone.

    A PyTorch implementation of `RepNeXt: A Fast Multi-Scale CNN using Structural
    Reparameterization <https://arxiv.org/abs/2406.16004>`_.

    Modified from the `official repo <https://github.com/suous/RepNeXt>`_ (commit ``f515377``,
    ``model/repnext.py``; license: see the repository, not verified here).

    A stem of two 3x3 stride-2 ConvNorms, then four stages of MetaNeXt blocks whose token mixer
    splits the channels into [identity, 3x3, 7x7, 1x11 -> 11x1] chunks; stages 1-3 start with a
    copy-conv down-sampling layer that doubles the channels. Only BatchNorm and GELU.

    Re-parameterisation (``switch_to_deploy()`` or ``deploy=True``) gives the official inference
    graph, whose parameter counts and state dict equal the authors' fused models:

    * every ConvNorm (stem and 1x1 MLP convs) -> one conv with bias (BN folded);
    * every multi-branch small / medium DW conv -> one DW 3x3 / 7x7 conv (parallel branches are
      zero-padded, the dilated 2x2 becomes the corners of a 3x3, serial 1xk -> kx1 strips become
      their outer product).

    Arch settings (``channels`` per stage, ``depths`` = MetaNeXt blocks per stage):

    ==== ===================== ===============
    arch channels              depths
    ==== ===================== ===============
    m0   (40, 80, 160, 320)    (2, 2, 9, 1)
    m1   (48, 96, 192, 384)    (3, 3, 15, 2)
    m2   (56, 112, 224, 448)   (3, 3, 15, 2)
    m3   (64, 128, 256, 512)   (3, 3, 13, 2)
    m4   (64, 128, 256, 512)   (5, 5, 25, 4)
    m5   (80, 160, 320, 640)   (7, 7, 35, 2)
    ==== ===================== ===============

    Every stride-2 conv pads "same", so any input size works and each stride-2 step rounds up:
    a 250x330 input gives 63x83, 32x42, 16x21 and 8x11 maps.

    Args:
        arch (str | dict): ``'m0'`` ... ``'m5'``, or a dict with the keys ``channels`` (4 ints,
            each divisible by 4 and doubling from stage to stage) and ``depths`` (4 ints).
            Defaults to 'm0' (the smallest variant, as for every family).
        in_channels (int): Input image channels. Defaults to 3.
        out_indices (int | Sequence[int]): Stages to output (0..3 = strides 4, 8, 16, 32).
            Defaults to (0, 1, 2, 3).
        frozen_stages (int): -1 freezes nothing, 0 the stem, k the stem and stages 0..k-1.
            Defaults to -1.
        mlp_ratio (int): Hidden width of the channel mixers relative to their input.
            Defaults to 2.
        norm_cfg (dict): Norm of every ConvNorm and of the stand-alone norms after the token
            mixers. Defaults to ``dict(type='BN', eps=1e-5)``.
        act_cfg (dict): Activation of the stem and the channel mixers.
            Defaults to ``dict(type='GELU')``.
        drop_path_rate (float): Stochastic depth rate of the last MetaNeXt block, linear from 0
            (down-sampling layers are not dropped). Defaults to 0.
        deploy (bool): Build the fused (inference) layout directly, e.g. to load a fused
            checkpoint. Needs a BatchNorm ``norm_cfg``. Defaults to False.
        norm_eval (bool): Keep BatchNorms in eval mode while training. Defaults to False.
        with_cp (bool): Gradient checkpointing per block. Defaults to False.
        output_stride (int): Only 32: this family has no exact dilated form (see
            :class:`BaseEdgeBackbone`). Defaults to 32.
        init_cfg (dict | list[dict], optional): ``None`` gives the official init: PyTorch's
            default init of every layer (BN weight 1 and bias 0). Defaults to None.

    Note:
        * ``drop_path_rate`` is an addition (the official code has no stochastic depth); the
          default 0 matches it.
        * As in the official inference graph, the stand-alone BN after each token mixer and the
          two strip convs of the large-kernel chunk stay separate layers when deployed: the BN
          cannot be folded through the identity chunk, and the strips both have a bias.
          (The down-sampling BN could be folded into ``conv_s`` / ``conv_m``; it is kept so that
          the authors' fused checkpoints load.)

    Example:
        >>> import torch
        >>> from mmedge.models import RepNeXt
        >>> model = RepNeXt(arch='m0').eval()
        >>> for out in model(torch.rand(1, 3, 250, 330)):
        ...     print(tuple(out.shape))
        (1, 40, 63, 83)
        (1, 80, 32, 42)
        (1, 160, 16, 21)
        (1, 320, 8, 11)
        >>> _ = model.switch_to_deploy()
        >>> print(tuple(model(torch.rand(1, 3, 224, 224))[-1].shape))
        (1, 320, 7, 7)
    """
    arch_settings = {
        'm0': dict(channels=(40, 80, 160, 320), depths=(2, 2, 9, 1)),
        'm1': dict(channels=(48, 96, 192, 384), depths=(3, 3, 15, 2)),
        'm2': dict(channels=(56, 112, 224, 448), depths=(3, 3, 15, 2)),
        'm3': dict(channels=(64, 128, 256, 512), depths=(3, 3, 13, 2)),
        'm4': dict(channels=(64, 128, 256, 512), depths=(5, 5, 25, 4)),
        'm5': dict(channels=(80, 160, 320, 640), depths=(7, 7, 35, 2)),
    }
    converter = 'repnext'

    def __init__(self,
                 arch: Union[str, dict] = 'm0',
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 mlp_ratio: int = 2,
                 norm_cfg: dict = dict(type='BN', eps=1e-5),
                 act_cfg: dict = dict(type='GELU'),
                 drop_path_rate: float = 0.,
                 deploy: bool = False,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 output_stride: int = 32,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(arch, in_channels, out_indices, frozen_stages,
                         norm_eval, with_cp, deploy, output_stride, init_cfg)
        channels, depths = self._check_arch(self.arch)
        if not isinstance(mlp_ratio, int) or mlp_ratio < 1:
            raise ValueError(f'RepNeXt: mlp_ratio must be a positive int, '
                             f'got {mlp_ratio!r}')
        if deploy and not isinstance(
                build_norm_layer(norm_cfg, 4), _BatchNorm):
            raise ValueError('RepNeXt: deploy=True folds BatchNorms into '
                             f'convs; norm_cfg={norm_cfg!r} is not a '
                             f'BatchNorm')
        self.out_channels = channels
        self.deploy = bool(deploy)  # the blocks below are built fused directly
        dpr = drop_path_rates(depths, drop_path_rate)

        c0 = channels[0]
        self.stem = nn.Sequential(
            _conv_norm(in_channels, c0 // 2, 3, 2, norm_cfg, deploy),
            build_act_layer(act_cfg),
            _conv_norm(c0 // 2, c0, 3, 2, norm_cfg, deploy))
        stages = []
        for i, (c, d) in enumerate(zip(channels, depths)):
            downsample = nn.Identity() if i == 0 else Downsample(
                channels[i - 1], mlp_ratio, norm_cfg, act_cfg, deploy)
            blocks = [
                MetaNeXtBlock(c, mlp_ratio, norm_cfg, act_cfg, dpr[i][j],
                              deploy) for j in range(d)
            ]
            stages.append(_Stage(downsample, blocks))
        self.stages = nn.ModuleList(stages)
        self._finish_init()

    @staticmethod
    def _check_arch(arch: dict):
        channels = tuple(arch['channels'])
        depths = tuple(arch['depths'])
        if len(channels) != 4 or len(depths) != 4 or not all(
                isinstance(v, int) and v >= 0 for v in channels + depths):
            raise ValueError(f'RepNeXt: arch needs 4 channels and 4 depths '
                             f'(non-negative ints), got {arch!r}')
        if any(c <= 0 or c % 4 for c in channels):
            raise ValueError(f'RepNeXt: every channel count must be a '
                             f'positive multiple of 4 (chunk conv), got '
                             f'{channels}')
        if any(b != 2 * a for a, b in zip(channels, channels[1:])):
            raise ValueError(f'RepNeXt: channels must double from stage to '
                             f'stage (copy conv), got {channels}')
        return channels, depths

    def _stem_blocks(self) -> List[nn.Module]:
        return [self.stem]

    def _stage_blocks(self, i: int) -> List[nn.Module]:
        stage = self.stages[i]
        head = [] if isinstance(stage.downsample,
                                nn.Identity) else [stage.downsample]
        return head + list(stage.blocks)
