# EdgeNeXt on ImageNet-1k with the official classifier: global average pooling
# -> LayerNorm (eps 1e-6) -> Linear (the *_bn_hs models: BatchNorm2d on the
# map, then pooling). The backbone's ``gap_before_final_norm=True`` holds that
# final norm as ``backbone.norm3`` (mmpretrain's layout); the head is a plain
# LinearClsHead. Each variant's config sets the arch, the head's in_channels
# and the drop-path rate.
# Recipe of the paper / official code: 256x256 training, AdamW lr 6e-3 at batch
# 4096, wd 0.05 (none on norms, biases, layer scales and the attention
# temperature), 300 epochs, 20 linear warm-up epochs then cosine, model EMA
# 0.9995; test: resize 292, centre crop 256. Augmentation: RandAugment (the
# S / B recipe) in this base; XX-S / X-S override the train pipeline. Not
# reproduced: the MobileViT multi-scale sampler and the classifier dropout.
# To fine-tune from the authors' weights, convert them with --keep-head
# (tools/model_converters/convert_official.py edgenext SRC DST --keep-head)
# and set ``load_from``.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_edgenext_256.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmedge.models'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmedge.EdgeNeXt',
        arch='small',
        out_indices=(3, ),
        drop_path_rate=0.1,
        gap_before_final_norm=True),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=304,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        # official: trunc-normal(0.02) classifier, zero bias
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02, bias=0.)))

# official: lr 6e-3 for 4096 images per step; the attention temperature
# (``csa.scale``, 3-d) is excluded from weight decay like the 1-d parameters
optim_wrapper = dict(
    optimizer=dict(lr=6e-3, weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'.csa.scale': dict(decay_mult=0.0)}))
auto_scale_lr = dict(base_batch_size=4096)

# official: model EMA with decay 0.9995
custom_hooks = [dict(type='EMAHook', momentum=5e-4, priority='ABOVE_NORMAL')]
