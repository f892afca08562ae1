# RepNeXt-M4 on ImageNet-1k (training form; recipe in the base file).
_base_ = ['../_base_/models/cls_repnext.py']

model = dict(backbone=dict(arch='m4'), head=dict(in_channels=512))
