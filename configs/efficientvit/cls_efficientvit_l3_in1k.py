# EfficientViT-L3 (MIT HAN Lab) on ImageNet-1k at 224x224 (see the L1 config).
_base_ = ['./cls_efficientvit_l1_in1k.py']

model = dict(
    backbone=dict(arch='l3'),
    head=dict(in_channels=1024, mid_channels=(6144, 6400)))
