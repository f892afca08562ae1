# EfficientViT-Seg-r2048: EfficientViT-Base + the Fast-SCNN-style fusion head on Cityscapes,
# whole-image inference at 1024x2048.
# Paper (EfficientViT v1, Table 2): 6.5M params, 19.1G MACs, 78.7 mIoU (val).
# Recipe (EfficientViT paper Sec. 4.1, 4.3; Table 2): backbone outputs at stride 8 (P2) and stride 32
# (P4) feed mmedge.EfficientViTSegHead; no auxiliary head; ImageNet-pretrained backbone,
# random head; AdamW; 485 epochs at batch 16; random scaling 0.5-2.0, flip, random crop;
# single-scale whole-image test at 1024x2048 (no sliding window).
# Decided here, where the paper is silent: the head (see its docstring: add
# fusion, 128 channels, 2 separable convs, hardswish); 1024x1024 crops; cross entropy,
# ignore 255; the optimizer settings of SegFormer, the paper's Cityscapes reference
# (AdamW lr 6e-5, wd 0.01, head LR x10, no decay on norms, 1500 linear warm-up
# iterations, poly power 1.0); 8 GPUs x 2 images; no photometric distortion (not listed).
# r1536 / r1408 (the paper's lower test resolutions): the -r1536 / -r1408 configs test
# this model at 768x1536 / 704x1408.
_base_ = [
    '../_base_/models/seg_efficientvitseg.py',
    'mmseg::_base_/datasets/cityscapes_1024x1024.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py'
]

# The paper's EfficientViT-Base has no released weights: train
# configs/cls_efficientvit_base_in1k.py and copy its checkpoint to
# checkpoints/efficientvit_base.pth (or override: --cfg-options
# model.backbone.init_cfg.checkpoint=PATH). A missing file stops the run with its download
# address (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/efficientvit_base.pth'

crop_size = (1024, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint_file,
            prefix='backbone.')))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(2048, 1024),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# 485 epochs x 2975 images / 16 per batch
max_iters = 90180
interval = 9018
train_cfg = dict(max_iters=max_iters, val_interval=interval)
default_hooks = dict(checkpoint=dict(interval=interval))
optimizer = dict(
    _delete_=True,
    type='AdamW',
    lr=6e-5,
    betas=(0.9, 0.999),
    weight_decay=0.01)
optim_wrapper = dict(
    optimizer=optimizer,
    paramwise_cfg=dict(
        custom_keys=dict(
            norm=dict(decay_mult=0.), decode_head=dict(lr_mult=10.))))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(
        type='PolyLR',
        eta_min=0.,
        power=1.0,
        by_epoch=False,
        begin=1500,
        end=max_iters)
]
# 8 GPUs x 2 images
auto_scale_lr = dict(enable=False, base_batch_size=16)
