# EdgeNeXt-S on ImageNet-1k (paper: 5.6M params, 1.26G MAdds @256, 79.4 top-1).
_base_ = ['../_base_/models/cls_edgenext.py']

model = dict(backbone=dict(arch='small'), head=dict(in_channels=304))
