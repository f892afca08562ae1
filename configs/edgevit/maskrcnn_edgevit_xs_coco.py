# Mask R-CNN 1x + EdgeViT-XS on COCO 2017.
# Paper (EdgeViT, Table 5): 26.5M params, 41.4 box AP, 38.3 mask AP (val2017).
# Recipe of maskrcnn_edgevit_xxs_coco.py.
_base_ = './maskrcnn_edgevit_xxs_coco.py'

checkpoint_file = 'checkpoints/edgevit_xs.pth'  # no released weights, see the XXS config

model = dict(
    backbone=dict(arch='xs', init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[48, 96, 240, 384]))
