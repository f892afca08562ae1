# Mask R-CNN 1x + RepNeXt-M3 on COCO 2017.
# Paper (RepNeXt, Table 4): 40.7 box AP, 37.8 mask AP (val2017); no params / FLOPs given.
# Recipe of the official detection/configs/mask_rcnn_repnext_m3_fpn_1x_coco.py and the log
# behind the paper's numbers (RepNeXt paper Sec. 4.2): the training-form backbone from the
# distilled ImageNet checkpoint, all four stage outputs into FPN (256 channels, 5 levels),
# SyncBN with running statistics updated (the official norm_eval has no effect on SyncBN),
# 1333x800, 1x schedule (12 epochs, steps at 8 and 11, 500 linear warm-up iterations from
# 1e-6x), AdamW lr 2e-4, wd 0.05, batch 8 (4 GPUs x 2 images).
# RepNeXt-M4 / M5 inherit this file.
_base_ = [
    '../_base_/models/det_maskrcnn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py'
]

# The authors' distilled ImageNet-1K weights (training form), converted on load. Download
# https://github.com/suous/RepNeXt/releases/download/v1.0/repnext_m3_distill_300e.pth
# into checkpoints/ (or override: --cfg-options model.backbone.init_cfg.checkpoint=PATH).
# A missing file stops the run with its download address
# (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/repnext_m3_distill_300e.pth'

model = dict(
    backbone=dict(
        type='mmedge.RepNeXt',
        arch='m3',
        norm_cfg=dict(type='SyncBN', eps=1e-5),
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint_file,
            prefix='backbone.')),
    neck=dict(in_channels=[64, 128, 256, 512]))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
]
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-4, weight_decay=0.05))
# 4 GPUs x 2 images
auto_scale_lr = dict(base_batch_size=8)
