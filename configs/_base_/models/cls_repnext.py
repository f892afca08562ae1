# RepNeXt on ImageNet-1k with the official classifier: global average pooling
# -> RepNeXtClsHead (BN1d + Linear twice, outputs averaged). Each variant's
# config sets the arch and the head's in_channels.
# Recipe of the official code (DeiT / RepViT style): AdamW, lr 1e-3 per 512
# images (2e-3 at batch 1024), wd 0.025 (0.03 for M5), 300 epochs, 5 warm-up
# epochs, cosine to 1e-5; RandAugment, mixup 0.8 / cutmix 1.0, label smoothing
# 0.1, random erasing 0.25; model EMA. Not reproduced: the hard distillation
# from a RegNetY-16GF teacher and the adaptive gradient clipping (0.02, agc).
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmedge.models'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmedge.RepNeXt', arch='m1', out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='mmedge.RepNeXtClsHead',
        num_classes=1000,
        in_channels=384,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ]))

optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.025))

# official: 5 warm-up epochs, not Swin's 20
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
