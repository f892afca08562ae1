# DeepLabv3 + EdgeNeXt-S on Pascal VOC 2012 with the SBD augmented set, 512x512 crops.
# Paper (EdgeNeXt, Table 5): 6.5M params, 8.7G MAdds, 80.2 mIoU (VOC val).
# Recipe (EdgeNeXt paper Sec. 4.6: the ml-cvnets MobileViT DeepLabv3 set-up the
# authors followed): the stage-4 output (stride 32) feeds an ASPP head (rates 6/12/18,
# 128 channels: the width that gives the paper's 6.5M; ml-cvnets' 1x1 projection,
# mmedge.MobileViTASPPHead); no auxiliary head; head LR x10; AdamW (wd 0.01), 500 linear
# warm-up iterations from 9e-5, cosine 9e-4 -> 1e-6; 50 epochs of the 10,582-image aug set
# at 4 GPUs x 32 images (4,150 iterations); EMA 0.0005; SyncBN in the head; random resize
# (shorter side 256-1024), random 512 crop, flip.
# The backbone runs at output stride 16 as in the paper (stage-4 down-sampling at stride 1,
# its depth-wise convs dilated by 2: EdgeNeXt(output_stride=16)), so the ASPP head sees a
# 32x32 map at 512x512. Difference: no extra COCO data (mmseg's VOC recipe uses SBD only).
_base_ = [
    '../_base_/models/seg_deeplabv3.py',
    'mmseg::_base_/datasets/pascal_voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py'
]

# The authors' ImageNet-1K weights, converted on load. Download
# https://github.com/mmaaz60/EdgeNeXt/releases/download/v1.0/edgenext_small.pth
# into checkpoints/ (or override: --cfg-options model.backbone.init_cfg.checkpoint=PATH).
# A missing file stops the run with its download address
# (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/edgenext_small.pth'

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        _delete_=True,
        type='mmedge.EdgeNeXt',
        arch='small',
        output_stride=16,
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint_file,
            prefix='backbone.')),
    decode_head=dict(
        type='mmedge.MobileViTASPPHead',
        in_channels=304,
        channels=128,
        dilations=(1, 6, 12, 18),
        num_classes=21),
    auxiliary_head=None)

train_dataloader = dict(batch_size=32)

# 50 epochs x ceil(10582 / 128) iterations, validation every 5 epochs
max_iters = 4150
interval = 415
train_cfg = dict(max_iters=max_iters, val_interval=interval)
default_hooks = dict(checkpoint=dict(interval=interval))
optimizer = dict(
    _delete_=True,
    type='AdamW',
    lr=9e-4,
    betas=(0.9, 0.999),
    weight_decay=0.01)
optim_wrapper = dict(
    optimizer=optimizer,
    paramwise_cfg=dict(custom_keys=dict(decode_head=dict(lr_mult=10.))))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=500),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-6,
        T_max=max_iters - 500,
        by_epoch=False,
        begin=500,
        end=max_iters)
]
custom_hooks = [
    dict(
        type='EMAHook',
        ema_type='ExponentialMovingAverage',
        momentum=0.0005,
        update_buffers=True,
        priority=49)
]
# 4 GPUs x 32 images
auto_scale_lr = dict(enable=False, base_batch_size=128)
