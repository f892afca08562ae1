# EdgeNeXt-XXS on ImageNet-1k (paper: 1.3M params, 261M MAdds @256, 71.2 top-1).
# official: no RandAugment, colour jitter 0.4, no drop path.
_base_ = ['./cls_edgenext_xs_in1k.py']

model = dict(backbone=dict(arch='xx_small'), head=dict(in_channels=168))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=256,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
