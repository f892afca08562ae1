"""Conv -> norm -> activation with fixed child names and BN folding."""
from typing import Optional

import torch
import torch.nn as nn

from .act import build_act_layer
from .norm import build_norm_layer
from .reparam import fuse_conv_bn

__all__ = ['ConvNormAct']


class ConvNormAct(nn.Sequential):
    """``conv`` -> ``norm`` -> ``act`` with fixed child names.

    mmcv's ``ConvModule`` names the norm after its type (``bn``, ``ln``, ``gn``), so changing
    ``norm_cfg`` would change the state-dict keys; here they are always ``conv.*`` / ``norm.*``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int | tuple): Kernel size.
        stride (int): Stride. Defaults to 1.
        padding (int | tuple, optional): Padding; ``None`` gives "same" padding
            ``(k - 1) // 2 * dilation``. Defaults to None.
        dilation (int): Dilation. Defaults to 1.
        groups (int): Groups. Defaults to 1.
        bias (bool | str): Conv bias; ``'auto'`` means a bias only when there is no norm.
            Defaults to 'auto'.
        norm_cfg (dict, optional): Norm config. Defaults to ``dict(type='BN')``.
        act_cfg (dict, optional): Activation config. Defaults to None.

    ``switch_to_deploy()`` folds a BatchNorm into the conv (the norm becomes ``nn.Identity``).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size=1,
                 stride: int = 1,
                 padding=None,
                 dilation: int = 1,
                 groups: int = 1,
                 bias='auto',
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = None) -> None:
        super().__init__()
        if padding is None:
            ks = kernel_size if isinstance(kernel_size,
                                           tuple) else (kernel_size, ) * 2
            padding = tuple((k - 1) // 2 * dilation for k in ks)
        if bias == 'auto':
            bias = norm_cfg is None
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias)
        self.norm = build_norm_layer(norm_cfg, out_channels)
        self.act = build_act_layer(act_cfg)

    @torch.no_grad()
    def switch_to_deploy(self) -> None:
        """Fold a BatchNorm into ``conv`` (in place, idempotent)."""
        if isinstance(self.norm, nn.modules.batchnorm._BatchNorm):
            self.conv = fuse_conv_bn(self.conv, self.norm)
            self.norm = nn.Identity()
