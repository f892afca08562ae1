# Mask R-CNN 1x + EdgeViT-S on COCO 2017.
# Paper (EdgeViT, Table 5): 32.8M params, 44.8 box AP, 41.0 mask AP (val2017).
# Recipe of maskrcnn_edgevit_xxs_coco.py.
_base_ = './maskrcnn_edgevit_xxs_coco.py'

checkpoint_file = 'checkpoints/edgevit_s.pth'  # no released weights, see the XXS config

model = dict(
    backbone=dict(arch='s', init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[48, 96, 240, 384]))
