# EfficientViT-L1 (MIT HAN Lab) on ImageNet-1k at 224x224: tanh-GELU and norm eps
# 1e-7 everywhere (the official model zoo's set_norm_eps), head widths (3072, 3200).
# Recipe of the base file with the L-series test crop ratio 1.0 and drop path 0.1;
# not reproduced: random erasing 0.2, MESA.
_base_ = ['./cls_efficientvit_b2_in1k.py']

model = dict(
    backbone=dict(arch='l1', drop_path_rate=0.1),
    head=dict(
        in_channels=512,
        mid_channels=(3072, 3200),
        norm_cfg=dict(type='BN', eps=1e-7),
        act_cfg=dict(type='GELU', approximate='tanh'),
        hidden_norm_cfg=dict(type='LN', eps=1e-7)))
