# EfficientViT-B2 (MIT HAN Lab) on ImageNet-1k at 224x224 (recipe in the base file).
_base_ = ['../_base_/models/cls_efficientvit.py']

model = dict(
    backbone=dict(arch='b2'),
    head=dict(in_channels=384, mid_channels=(2304, 2560)))

# official: test crop ratio 1.0 for b2 / b3 (resize 224, centre crop 224)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=224,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
