"""Normalisation layers and a scope-independent norm builder."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmedge.registry import MODELS

__all__ = [
    'LayerNorm2d', 'build_norm_layer', 'build_layout_norm', 'layer_norm_last'
]


@MODELS.register_module('LN2d')
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channel dimension of an NCHW tensor.

    Args:
        num_channels (int): Number of channels C.
        eps (float): Added to the variance. Defaults to 1e-6 (the value the official EdgeNeXt,
            EMO and EfficientViT checkpoints were trained with; mmcv's default 1e-5 is not).
        elementwise_affine (bool): Learnable weight and bias. Defaults to True.
    """

    def __init__(self,
                 num_channels: int,
                 eps: float = 1e-6,
                 elementwise_affine: bool = True) -> None:
        super().__init__(num_channels, eps=eps,
                         elementwise_affine=elementwise_affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) -> (B, H, W, C) -> norm -> (B, C, H, W)
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias,
                         self.eps)
        return x.permute(0, 3, 1, 2)


# Types whose first argument is the number of features; GN takes num_channels plus num_groups.
_GROUP_NORMS = ('GN', 'GroupNorm')


def build_norm_layer(cfg: dict, num_features: int) -> nn.Module:
    """Build a norm layer from a config and return just the module.

    Unlike ``mmcv.cnn.build_norm_layer`` this keeps the ``eps`` the config gives (mmcv's default is
    1e-5 whatever the layer), returns no name, and looks the type up with ``MODELS.get()`` in the
    mmedge registry (then its parents), so ``'LN2d'`` resolves under any default scope.

    Args:
        cfg (dict): ``dict(type=..., **kwargs)``, e.g. ``dict(type='BN', eps=1e-5)``,
            ``dict(type='LN2d', eps=1e-6)``, ``dict(type='SyncBN')``, ``dict(type='GN',
            num_groups=8)``. ``None`` gives ``nn.Identity``.
        num_features (int): Number of channels.

    Returns:
        nn.Module: The norm layer.
    """
    if cfg is None:
        return nn.Identity()
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'norm_cfg must be a dict with a "type" key, got {cfg!r}')
    cfg = dict(cfg)
    layer_type = cfg.pop('type')
    if isinstance(layer_type, str) and layer_type.startswith('mmedge.'):
        layer_type = layer_type[len('mmedge.'):]
    layer_cls = MODELS.get(layer_type) if isinstance(layer_type,
                                                     str) else layer_type
    if layer_cls is None:
        raise ValueError(
            f'Unknown norm type {layer_type!r}; use one of BN, SyncBN, LN, '
            f'LN2d, GN, IN or a class registered in mmengine/mmcv.')
    requires_grad = cfg.pop('requires_grad', True)
    if layer_type in _GROUP_NORMS:
        layer = layer_cls(num_channels=num_features, **cfg)
    else:
        layer = layer_cls(num_features, **cfg)
    for p in layer.parameters():
        p.requires_grad = requires_grad
    return layer


def layer_norm_last(norm: nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
    """``norm``'s LayerNorm over the last (channel) dim of an NHWC / NLC tensor.

    Works for ``LN`` and ``LN2d`` alike (only the parameters and ``eps`` are used).
    """
    return F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias,
                        norm.eps)


def build_layout_norm(cfg: dict,
                      num_features: int,
                      channels_last: bool,
                      owner: str,
                      what: str = 'norm_cfg',
                      allow_ln2d: bool = True,
                      hint: str = '') -> nn.Module:
    """Build a norm and check that it fits the tensor layout it will be applied to.

    Args:
        cfg (dict): The norm config.
        num_features (int): Channels.
        channels_last (bool): True: the norm normalises channels-last tokens / NHWC maps over C,
            so it must be a LayerNorm (``LN``, and ``LN2d`` when ``allow_ln2d``, used through
            :func:`layer_norm_last`). False: it is applied to NCHW maps, so a plain ``LN``
            (which would normalise over W) is refused.
        owner (str): Class name for the error message.
        what (str): Argument name for the error message. Defaults to 'norm_cfg'.
        allow_ln2d (bool): Accept ``LN2d`` in the channels-last layout. Defaults to True.
        hint (str): Appended to the error message. Defaults to ''.
    """
    norm = build_norm_layer(cfg, num_features)
    is_ln = isinstance(norm, nn.LayerNorm)
    is_ln2d = isinstance(norm, LayerNorm2d)
    if channels_last and not (is_ln and (allow_ln2d or not is_ln2d)):
        kinds = 'LN or LN2d' if allow_ln2d else "LN, e.g. dict(type='LN')"
        raise ValueError(
            f'{owner}: {what} normalises channels-last tokens over their '
            f'channels and must be a LayerNorm type ({kinds}); got '
            f'{cfg!r}.{hint}')
    if not channels_last and is_ln and not is_ln2d:
        raise ValueError(
            f'{owner}: {what} is applied to NCHW maps; use BN, SyncBN, GN or '
            f'LN2d, got {cfg!r}.{hint}')
    return norm
