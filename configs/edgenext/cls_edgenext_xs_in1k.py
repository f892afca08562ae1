# EdgeNeXt-XS on ImageNet-1k (paper: 2.3M params, 538M MAdds @256, 75.0 top-1).
# official: no RandAugment, no drop path.
_base_ = ['../_base_/models/cls_edgenext.py']

model = dict(
    backbone=dict(arch='x_small', drop_path_rate=0.),
    head=dict(in_channels=192))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=256,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
