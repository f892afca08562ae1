# RetinaNet 1x + EMO-5M on COCO 2017.
# Paper (EMO, Table 12): 14.4M params, 38.9 box AP; official README: 178G FLOPs.
# Recipe of the official configs/retinanet_emo/retinanet_emo_5M_fpn_1x_coco.py (EMO paper
# Sec. 3.2): 1333x800 (the paper's "320x320" is contradicted by the config and logs), all four
# stage outputs into FPN from stride 8 with P6 / P7 on the stride-32 input; attention window
# 10 (7 for 1M / 2M), drop path 0.05, stem + stage 1 frozen, backbone BN frozen (norm_eval);
# AdamW lr 2e-4, betas (0.9, 0.999), wd 0.05 with no decay on the backbone norms; 12 epochs,
# 500 linear warm-up iterations from 0.001x, cosine to 0; 8 GPUs x 4 images.
# EMO-1M / 2M inherit this file.
_base_ = [
    '../_base_/models/det_retinanet.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py'
]

# https://github.com/zhangzjn/EMO/raw/main/resources/EMO_5M/net.pth (the authors' ImageNet-1K
# weights, converted on load); override: --cfg-options model.backbone.init_cfg.checkpoint=PATH.
# A missing file stops the run with its download address
# (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/EMO_5M/net.pth'

model = dict(
    backbone=dict(
        type='mmedge.EMO',
        arch='5m',
        window_size=10,
        drop_path_rate=0.05,
        frozen_stages=1,
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint_file,
            prefix='backbone.')),
    neck=dict(in_channels=[48, 72, 160, 288]))

train_dataloader = dict(batch_size=4)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='CosineAnnealingLR',
        begin=0,
        T_max=12,
        end=12,
        by_epoch=True,
        eta_min=0)
]
# official: 'norm' (the backbone's norm layers) without weight decay
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True,
        type='AdamW',
        lr=2e-4,
        betas=(0.9, 0.999),
        weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}))
# 8 GPUs x 4 images
auto_scale_lr = dict(base_batch_size=32)
