# Semantic FPN + RepNeXt-M3 on ADE20K, 512x512 crops, 80k iterations.
# Paper (RepNeXt, Table 4): 40.6 mIoU; the paper gives no params / FLOPs.
# Recipe (RepNeXt paper Sec. 4.2, the authors' sem_fpn configs and logs): all four backbone
# outputs (strides 4/8/16/32) feed the FPN neck (256 channels) and the FPN head (128
# channels); no auxiliary head; backbone BN as SyncBN, training (unfused) form,
# initialised from the distilled ImageNet checkpoint; AdamW lr 1e-4, wd 0.05, poly power
# 0.9 to 1e-6; 80k iterations at 4 GPUs x 4 images (the official file name says "40k").
# Test: shorter side 512, padded to a multiple of 32 (AlignResize).
# The other RepNeXt variants inherit this file and change the backbone.
_base_ = [
    '../_base_/models/seg_fpn.py', 'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/seg_adamw-poly_80k.py'
]

# The authors' distilled ImageNet-1K weights (training form), converted on load. Download
# https://github.com/suous/RepNeXt/releases/download/v1.0/repnext_m3_distill_300e.pth
# into checkpoints/ (or override: --cfg-options model.backbone.init_cfg.checkpoint=PATH).
# A missing file stops the run with its download address
# (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/repnext_m3_distill_300e.pth'

crop_size = (512, 512)
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
    neck=dict(in_channels=[64, 128, 256, 512]),
    decode_head=dict(num_classes=150))

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
# 4 GPUs x 4 images
auto_scale_lr = dict(enable=False, base_batch_size=16)
