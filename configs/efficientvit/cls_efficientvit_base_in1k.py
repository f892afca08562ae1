# EfficientViT-Base of the first EfficientViT paper (MIT HAN Lab; no official
# code or weights), recipe of the B-series base file. Head "same as
# MobileNetV3" (our reading): 1x1 conv 192 -> 1152 + BN + hswish, GAP,
# Linear 1152 -> 1536 (with bias, no norm) + hswish, Linear -> 1000; 406.9M MACs
# at 224x224 with the backbone (paper: 406M).
_base_ = ['../_base_/models/cls_efficientvit.py']

model = dict(
    backbone=dict(type='mmedge.EfficientViTPaper', arch='base'),
    head=dict(
        in_channels=192,
        mid_channels=(1152, 1536),
        hidden_norm_cfg=None,
        hidden_bias=True))
