# EdgeNeXt-S with BatchNorm + Hardswish (official README: 5.58M params, 78.39 top-1).
_base_ = ['../_base_/models/cls_edgenext.py']

model = dict(backbone=dict(arch='small_bn_hs'), head=dict(in_channels=304))
