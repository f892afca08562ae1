# EdgeNeXt-XXS with BatchNorm + Hardswish (official README: 1.33M params, 70.33 top-1).
_base_ = ['./cls_edgenext_xxs_in1k.py']

model = dict(backbone=dict(arch='xx_small_bn_hs'))
