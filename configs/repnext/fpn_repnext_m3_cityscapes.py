# Semantic FPN + RepNeXt-M3 on Cityscapes, 512x1024 crops, 80k iterations (no paper pairing).
# RepNeXt's ADE20K recipe (fpn_repnext_m3_ade20k.py) on mmseg's Cityscapes 512x1024
# set-up: all four backbone outputs (strides 4/8/16/32) feed the FPN neck (256 channels)
# and the FPN head (128 channels); no auxiliary head; AdamW lr 1e-4, wd 0.05, poly 0.9 to
# 1e-6; 8 GPUs x 2 images; whole-image test at 1024x2048.
_base_ = [
    '../_base_/models/seg_fpn.py', 'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/seg_adamw-poly_80k.py'
]

# The authors' distilled ImageNet-1K weights (training form), converted on load. Download
# https://github.com/suous/RepNeXt/releases/download/v1.0/repnext_m3_distill_300e.pth
# into checkpoints/ (or override: --cfg-options model.backbone.init_cfg.checkpoint=PATH).
# A missing file stops the run with its download address
# (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/repnext_m3_distill_300e.pth'

crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        _delete_=True,
        type='mmedge.RepNeXt',
        arch='m3',
        norm_cfg=dict(type='SyncBN'),
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint_file,
            prefix='backbone.')),
    neck=dict(in_channels=[64, 128, 256, 512]))

optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-6,
        power=0.9,
        begin=0,
        end=80000,
        by_epoch=False)
]
# 8 GPUs x 2 images
auto_scale_lr = dict(enable=False, base_batch_size=16)
