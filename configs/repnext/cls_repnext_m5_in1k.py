# RepNeXt-M5 on ImageNet-1k (training form; recipe in the base file).
_base_ = ['../_base_/models/cls_repnext.py']

model = dict(backbone=dict(arch='m5'), head=dict(in_channels=640))

# official: weight decay 0.03 for M5
optim_wrapper = dict(optimizer=dict(weight_decay=0.03))
