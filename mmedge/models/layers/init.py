"""The weight initialisations the authors' code uses, written once."""
from typing import Sequence, Type

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ['init_trunc_normal', 'NORM_TYPES']

NORM_TYPES = (_BatchNorm, nn.GroupNorm, nn.LayerNorm)


@torch.no_grad()
def init_trunc_normal(model: nn.Module,
                      std: float = .02,
                      layer_types: Sequence[Type[nn.Module]] = (nn.Conv2d,
                                                                nn.Linear),
                      norm_types: Sequence[Type[nn.Module]] = (
                          nn.LayerNorm, )) -> None:
    """Trunc-normal(0, ``std``) weights and zero biases of ``layer_types``; unit weights and
    zero biases of the affine ``norm_types``.

    ``layer_types=()`` gives a norm-only init. The truncation is torch's default (+-2, i.e.
    about +-100 std at 0.02, as timm's ``trunc_normal_`` that the authors call).
    """
    layer_types, norm_types = tuple(layer_types), tuple(norm_types)
    for m in model.modules():
        if layer_types and isinstance(m, layer_types):
            nn.init.trunc_normal_(m.weight, std=std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif norm_types and isinstance(m, norm_types) and \
                getattr(m, 'weight', None) is not None:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
