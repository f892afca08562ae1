# EfficientViT-B1 (MIT HAN Lab) on ImageNet-1k at 224x224 (recipe in the base file).
_base_ = ['../_base_/models/cls_efficientvit.py']

model = dict(
    backbone=dict(arch='b1'),
    head=dict(in_channels=256, mid_channels=(1536, 1600)))
