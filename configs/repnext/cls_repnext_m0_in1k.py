# RepNeXt-M0 on ImageNet-1k (training form; recipe in the base file).
_base_ = ['../_base_/models/cls_repnext.py']

model = dict(backbone=dict(arch='m0'), head=dict(in_channels=320))
