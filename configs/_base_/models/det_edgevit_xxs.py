# EdgeViT-XXS in the EdgeViT detection recipe (EdgeViT paper Sec. 4.2, "following PVT /
# PVTv2"), shared by the RetinaNet and Mask R-CNN configs: all four stage outputs, AdamW lr 1e-4
# with PVT's weight decay 1e-4. Not in the paper (decisions): drop path 0.1 (the official code's
# default) and frozen BN statistics in the backbone (norm_eval, as mmdet does for BN backbones at
# 2 images per GPU). Variables only, because each config also inherits a model base that defines
# `model` (two bases may not define the same key):
#     model = dict(backbone=_base_.edgevit_backbone, neck=dict(in_channels=[36, 72, 144, 288]))
#     optim_wrapper = _base_.edgevit_optim_wrapper
#
# The authors released no ImageNet weights (github.com/saic-fi/edgevit): train
# configs/cls_edgevit_xxs_in1k.py (or the official main.py, whose checkpoint.pth converts on
# load) and save the file as below, or override:
# --cfg-options model.backbone.init_cfg.checkpoint=PATH. A missing file stops the run with its download
# address (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/edgevit_xxs.pth'
edgevit_backbone = dict(
    type='mmedge.EdgeViT',
    arch='xxs',
    drop_path_rate=0.1,
    norm_eval=True,
    init_cfg=dict(
        type='Pretrained', checkpoint=checkpoint_file,
        prefix='backbone.'))
edgevit_optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, weight_decay=1e-4))
