# EfficientViT-B0 (MIT HAN Lab) on ImageNet-1k at 224x224 (recipe in the base file).
_base_ = ['../_base_/models/cls_efficientvit.py']

model = dict(
    backbone=dict(arch='b0'),
    head=dict(in_channels=128, mid_channels=(1024, 1280)))
