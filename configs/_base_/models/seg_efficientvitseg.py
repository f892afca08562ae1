# EfficientViT-Seg (first EfficientViT paper, Sec. 4.1 and 4.3): EfficientViT-Base,
# whose stride-8 (P2, out index 1) and stride-32 (P4, out index 3) maps are fused by the
# Fast-SCNN-style mmedge.EfficientViTSegHead; no auxiliary head. For other backbones,
# replace the backbone (`_delete_=True`) and set decode_head.in_channels.
custom_imports = dict(imports=['mmedge.models'], allow_failed_imports=False)

norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    test_cfg=dict(size_divisor=32))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='mmedge.EfficientViTPaper',
        arch='base',
        out_indices=(1, 3),
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='mmedge.EfficientViTSegHead',
        in_channels=(48, 192),
        in_index=(0, 1),
        channels=128,
        num_convs=2,
        lower_dilation=4,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='HSwish'),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
