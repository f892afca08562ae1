"""Building blocks and fusions shared by two or more families (each written once).

Family-specific blocks (SDTA, LGL, iRMB, LiteMLA, RepNeXt's multi-scale convs) live in the family
files.  Importing :mod:`mmcv.cnn` here fills mmengine's root registry with BN/LN/GELU/..., so
``MODELS.get('BN')`` works before anything else has imported mmcv.
"""
import mmcv.cnn  # noqa: F401  (registers the standard norms / activations in the root registry)

from .act import build_act_layer
from .conv import ConvNormAct
from .drop import DropPath, drop_path_rates
from .init import NORM_TYPES, init_trunc_normal
from .norm import (LayerNorm2d, build_layout_norm, build_norm_layer,
                   layer_norm_last)
from .padding import crop_to, pad_to_min_size, pad_to_multiple
from .reparam import (bn_scale_shift, dilate_kernel, fold_affine_into_input,
                      fuse_bn_into_linear, fuse_bn_into_next, fuse_conv_bn,
                      fuse_conv_bn_tensors, pad_kernel)

__all__ = [
    'build_act_layer', 'ConvNormAct', 'DropPath', 'drop_path_rates',
    'init_trunc_normal', 'NORM_TYPES', 'LayerNorm2d', 'build_norm_layer',
    'build_layout_norm', 'layer_norm_last', 'pad_to_multiple', 'crop_to',
    'pad_to_min_size', 'fuse_conv_bn', 'fuse_conv_bn_tensors',
    'bn_scale_shift', 'fold_affine_into_input', 'fuse_bn_into_next',
    'fuse_bn_into_linear', 'pad_kernel', 'dilate_kernel'
]
