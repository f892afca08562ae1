# SSDLite 320x320 + EdgeNeXt-S on COCO 2017.
# Paper (EdgeNeXt, Table 4): 6.2M params, 2.1G MAdds, 27.9 box mAP.
# Recipe (EdgeNeXt paper Sec. 4.5, the MobileViT/ml-cvnets SSDLite set-up the authors follow):
# stage-3 (OS16) and stage-4 (OS32) outputs feed the SSD neck; AdamW (wd 0.01), cosine LR
# 9e-4 -> 1e-6 with 500 warm-up iterations from 9e-5, 200 epochs, 4 GPUs x 32 images, EMA.
_base_ = '../_base_/det_ssdlite_coco.py'

# The authors' ImageNet-1K weights, converted on load. Download
# https://github.com/mmaaz60/EdgeNeXt/releases/download/v1.0/edgenext_small.pth
# into checkpoints/ (or override: --cfg-options model.backbone.init_cfg.checkpoint=PATH).
# A missing file stops the run with its download address
# (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/edgenext_small.pth'

neck_channels = (160, 304, 256, 128, 128, 64)
model = dict(
    backbone=dict(
        type='mmedge.EdgeNeXt',
        arch='small',
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint_file,
            prefix='backbone.')),
    neck=dict(in_channels=(160, 304), out_channels=neck_channels),
    bbox_head=dict(in_channels=neck_channels))

# 40 epochs x RepeatDataset(times=5) = the paper's 200 epochs.
max_epochs = 40
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
train_dataloader = dict(batch_size=32, num_workers=4)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=500),
    dict(
        type='CosineAnnealingLR',
        begin=0,
        T_max=max_epochs,
        end=max_epochs,
        by_epoch=True,
        eta_min=1e-6)
]
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=9e-4, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.))
custom_hooks = [
    dict(type='NumClassCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),
    dict(
        type='EMAHook',
        ema_type='ExpMomentumEMA',
        momentum=0.0005,
        update_buffers=True,
        priority=49)
]
# 4 GPUs x 32 images
auto_scale_lr = dict(base_batch_size=128)
