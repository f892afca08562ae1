# EfficientViT-B3 (MIT HAN Lab) on ImageNet-1k at 224x224 (recipe in the base file).
_base_ = ['./cls_efficientvit_b2_in1k.py']

model = dict(
    backbone=dict(arch='b3', drop_path_rate=0.1),  # official: drop path 0.1
    head=dict(in_channels=512, mid_channels=(2304, 2560)))
