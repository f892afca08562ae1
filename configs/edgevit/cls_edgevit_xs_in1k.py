# EdgeViT-XS on ImageNet-1k (depths [1, 1, 3, 1] from the official code).
_base_ = './cls_edgevit_xxs_in1k.py'

model = dict(backbone=dict(arch='xs'), head=dict(in_channels=384))
