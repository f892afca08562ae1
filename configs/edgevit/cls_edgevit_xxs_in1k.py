# EdgeViT-XXS on ImageNet-1k with the official classifier head:
# BatchNorm2d on the stage-4 map (EdgeViT(final_norm=True)) -> global average
# pooling -> Linear. Recipe: the paper's DeiT one (AdamW lr 1e-3 at batch
# 1024 = 16 GPUs x 64, wd 0.05, 300 epochs, 5 warm-up epochs, cosine) with the
# official main.py defaults (drop path 0.1, mixup 0.8 / cutmix 1.0, label
# smoothing 0.1, RandAugment, random erasing 0.25, model EMA 0.99996).
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmedge.models'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmedge.EdgeViT',
        arch='xxs',
        out_indices=(3, ),
        final_norm=True,
        drop_path_rate=0.1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=288,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        # official: trunc_normal(std=.02) for every Linear, zero bias
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02, bias=0.)),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ]))

# official: 5 warm-up epochs (DeiT), not Swin's 20
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        end=5,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=5)
]

# official: model EMA with decay 0.99996
custom_hooks = [dict(type='EMAHook', momentum=4e-5, priority='ABOVE_NORMAL')]
