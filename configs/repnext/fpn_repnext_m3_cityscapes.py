# Semantic FPN + RepNeXt-M3 on Cityscapes, 512x1024 crops, 80k iterations (no paper pairing).
# RepNeXt's ADE20K recipe (fpn_repnext_m3_ade20k.py) on mmseg's Cityscapes 512x1024
# set-up: all four backbone outputs (strides 4/8/16/32) feed the FPN neck (256 channels)
# and the FPN head (128 channels); no auxiliary head; AdamW lr 1e-4, wd 0.05, poly 0.9 to
# 1e-6; 8 GPUs x 2 images; whole-image test at 1024x2048.
_base_ = [
    '../_base_/models/seg_fpn.py', '../_base_/models/seg_fpn_repnext_m3.py', 'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/seg_adamw-poly_80k.py'
]

crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(_delete_=True, **_base_.repnext_backbone),
    neck=dict(in_channels=_base_.repnext_m3_channels))
optim_wrapper = _base_.repnext_optim_wrapper
param_scheduler = _base_.repnext_param_scheduler
# 8 GPUs x 2 images
auto_scale_lr = dict(enable=False, base_batch_size=16)
