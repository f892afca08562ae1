"""Building blocks shared by two or more families.

Family-specific blocks (SDTA, LGL, iRMB, LiteMLA, RepNeXt's multi-scale convs) live in the family
files.  Importing :mod:`mmcv.cnn` here fills mmengine's root registry with BN/LN/GELU/..., so
``MODELS.get('BN')`` works before anything else has imported mmcv.
"""
import mmcv.cnn  # noqa: F401  (registers the standard norms / activations in the root registry)

from .act import build_act_layer
from .conv import ConvNormAct
from .drop import DropPath, drop_path_rates
from .norm import LayerNorm2d, build_norm_layer
from .padding import crop_to, pad_to_multiple
from .reparam import (dilate_kernel, fuse_bn_into_linear, fuse_conv_bn,
                      fuse_conv_bn_tensors, pad_kernel)

__all__ = [
    'build_act_layer', 'ConvNormAct', 'DropPath', 'drop_path_rates',
    'LayerNorm2d', 'build_norm_layer', 'pad_to_multiple', 'crop_to',
    'fuse_conv_bn', 'fuse_conv_bn_tensors', 'fuse_bn_into_linear',
    'pad_kernel', 'dilate_kernel'
]
