# EfficientViT (MIT HAN Lab, B-series) on ImageNet-1k with the official ClsHead:
# 1x1 conv + BN + hswish -> GAP -> Linear (no bias) + LN + hswish -> Linear.
# Each variant's config sets the arch and the head widths.
# Recipe of the official configs (applications/efficientvit_cls/configs/imagenet):
# AdamW, wd 0.1 (none on norms / biases), 300 epochs, 20 warm-up epochs, cosine,
# gradient value clipping 2.0, label smoothing 0.1, drop path 0.05 (linear),
# EMA 0.9998; evaluation: bicubic short-edge resize to 224 / 0.95 = 236, centre
# crop 224. Not reproduced: RandAugment n=1 m=3, the official mixup / cutmix
# settings, BCE loss, multi-resolution training (128-224) and BN re-calibration.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmedge.models'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmedge.EfficientViT',
        arch='b1',
        out_indices=(3, ),
        drop_path_rate=0.05),
    neck=None,
    head=dict(
        type='mmedge.EfficientViTClsHead',
        num_classes=1000,
        in_channels=256,
        mid_channels=(1536, 1600),
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)))

optim_wrapper = dict(
    optimizer=dict(weight_decay=0.1),
    clip_grad=dict(type='value', clip_value=2.0))

custom_hooks = [dict(type='EMAHook', momentum=2e-4, priority='ABOVE_NORMAL')]

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=236,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
