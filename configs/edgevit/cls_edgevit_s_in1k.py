# EdgeViT-S on ImageNet-1k (depths [1, 2, 5, 3] from the official code).
_base_ = './cls_edgevit_xxs_in1k.py'

model = dict(backbone=dict(arch='s'), head=dict(in_channels=384))
