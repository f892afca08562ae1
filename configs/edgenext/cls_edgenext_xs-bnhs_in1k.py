# EdgeNeXt-XS with BatchNorm + Hardswish (official README: 2.34M params, 74.87 top-1).
_base_ = ['./cls_edgenext_xs_in1k.py']

model = dict(backbone=dict(arch='x_small_bn_hs'))
