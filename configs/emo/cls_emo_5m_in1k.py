# EMO-5M on ImageNet-1K, 224x224 (paper Table 7: 5.1M params, 903M FLOPs, 78.4 top-1).
# The recipe of the official configs/mobile/cls_emo.py (EMO paper Sec. 3.1): 300 epochs, AdamW
# (lr 6e-3 at batch 2048 = 8 GPUs x 256, wd 0.05, no decay on norms / biases), 20 warm-up
# epochs, cosine to 2.5e-7, label smoothing 0.1, RandAugment m9-mstd0.5, no random erasing,
# EMA 0.9998, gradient clipping 5.0. Test: resize 256 bicubic, centre crop 224.
# The other variants inherit this file and change the arch.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmedge.models'], allow_failed_imports=False)

# Official head: LayerNorm on the stage-4 map -> mean -> Linear. The authors' released
# weights convert with `tools/model_converters/convert_official.py emo SRC DST --keep-head`.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmedge.EMO', arch='5m', out_indices=(3, ), drop_path_rate=0.05),
    neck=None,
    head=dict(
        type='mmedge.EMOClsHead',
        num_classes=1000,
        in_channels=288,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)))

bgr_mean = [103.53, 116.28, 123.675]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(
            pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=256, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=256)
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=6e-3), clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=2.5e-7 / 6e-3,
        by_epoch=True,
        end=20,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=2.5e-7, by_epoch=True, begin=20)
]
auto_scale_lr = dict(base_batch_size=2048)
custom_hooks = [dict(type='EMAHook', momentum=2e-4, priority='ABOVE_NORMAL')]
