# EdgeNeXt-B on ImageNet-1k (official code: 18.5M params, 3.84G MAdds @256).
_base_ = ['../_base_/models/cls_edgenext.py']

model = dict(backbone=dict(arch='base'), head=dict(in_channels=584))
