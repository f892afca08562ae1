# RetinaNet 1x + EdgeViT-XXS on COCO 2017.
# Paper (EdgeViT, Table 5): 13.1M params, 38.7 box AP (mAP@100, val2017).
# Recipe (EdgeViT paper Sec. 4.2, "following PVT / PVTv2"): all four stage outputs, FPN from
# stride 8 with P6 / P7 on the stride-32 input (PVTv2's retinanet_pvt_v2_b0_fpn_1x_coco.py),
# 1333x800, 1x schedule (12 epochs, steps at 8 and 11, 500 warm-up iterations), AdamW lr 1e-4
# with PVT's weight decay 1e-4, batch 16 (8 GPUs x 2 images). Not in the paper (decisions):
# drop path 0.1 (the official code's default) and frozen BN statistics in the backbone's
# local-aggregation BNs (norm_eval, as mmdet does for BN backbones at 2 images per GPU).
# EdgeViT-XS / S inherit this file.
_base_ = [
    '../_base_/models/det_retinanet.py', '../_base_/models/det_edgevit_xxs.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py'
]

model = dict(
    backbone=_base_.edgevit_backbone, neck=dict(in_channels=[36, 72, 144, 288]))
optim_wrapper = _base_.edgevit_optim_wrapper
