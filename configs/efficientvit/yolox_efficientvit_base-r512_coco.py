# EfficientViT-Det-r512: YOLOX + the paper's EfficientViT-Base on COCO 2017 at 512x512.
# Paper (EfficientViT, Table 1): 10.6M params, 3.2G MACs, 40.7 AP / 58.6 AP50 / 43.6 AP75.
# Recipe (EfficientViT paper Sec. 4.1, 4.2; Table 1): P2 / P3 / P4 (stages 1-3, strides 8 / 16 / 32,
# 48 / 96 / 192 channels) into the YOLOX PAFPN + decoupled head (SimOTA, IoU / BCE losses);
# AdamW, 300 epochs, batch 192 (8 GPUs x 24 images); the augmentation of "Bag of Freebies for
# training object detectors" (random expansion, random crop, flip, colour jitter) plus
# detection mixup, no Mosaic; one model per resolution.
# Not in the paper (decisions, [I]): neck / head width 192 with depth-wise convs (YOLOX-Nano
# style), which puts the detector at the paper's MACs (2.14G / 3.24G / 4.57G at 416 / 512 / 608
# vs 2.1G / 3.2G / 4.4G); AdamW lr 3e-3 (RTMDet's 4e-3 at batch 256, scaled to 192), wd 0.05,
# no decay on norms / biases; YOLOX's schedule (5 quadratic warm-up epochs, cosine to 5 % of
# the lr, the last 15 epochs without mixup at a constant lr) and EMA; single-scale training;
# ImageNet mean / std on the input (the backbone is ImageNet-pretrained, YOLOX's CSPDarknet
# is not).
# yolox_efficientvit_base-r608_coco.py and the B1 / B2 configs inherit this file.
_base_ = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'
custom_imports = dict(imports=['mmedge.models'], allow_failed_imports=False)

# The paper's EfficientViT-Base has no released weights: train
# configs/cls_efficientvit_base_in1k.py and save its checkpoint as below, or override:
# --cfg-options model.backbone.init_cfg.checkpoint=PATH. A missing file stops the run with its download
# address (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/efficientvit_base.pth'

img_scale = (512, 512)  # width, height
width = 192
model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        batch_augments=None),
    backbone=dict(
        _delete_=True,
        type='mmedge.EfficientViTPaper',
        arch='base',
        out_indices=(1, 2, 3),
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint_file,
            prefix='backbone.')),
    neck=dict(
        in_channels=[48, 96, 192], out_channels=width, use_depthwise=True),
    bbox_head=dict(in_channels=width, feat_channels=width, use_depthwise=True))

# Bag-of-Freebies augmentation (as mmdet's YOLOv3 recipe) + detection mixup
train_pipeline = [
    dict(
        type='Expand',
        mean=[123.675, 116.28, 103.53],
        to_rgb=True,
        ratio_range=(1, 2)),
    dict(
        type='MinIoURandomCrop',
        min_ious=(0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
        min_crop_size=0.3),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(
        type='Pad',
        pad_to_square=True,
        pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(
        type='MixUp',
        img_scale=img_scale,
        ratio_range=(0.8, 1.6),
        pad_val=114.0),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(
        type='Pad',
        pad_to_square=True,
        pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(batch_size=24, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

base_lr = 3e-3
max_epochs = 300
num_last_epochs = 15
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True,
        type='AdamW',
        lr=base_lr,
        betas=(0.9, 0.999),
        weight_decay=0.05))
param_scheduler = [
    dict(
        type='mmdet.QuadraticWarmupLR',
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=base_lr * 0.05,
        begin=5,
        T_max=max_epochs - num_last_epochs,
        end=max_epochs - num_last_epochs,
        by_epoch=True,
        convert_to_iter_based=True),
    dict(
        type='ConstantLR',
        by_epoch=True,
        factor=1,
        begin=max_epochs - num_last_epochs,
        end=max_epochs)
]
# 8 GPUs x 24 images
auto_scale_lr = dict(base_batch_size=192)
