# RetinaNet 1x + EdgeViT-XS on COCO 2017.
# Paper (EdgeViT, Table 5): 16.3M params, 40.6 box AP (mAP@100, val2017).
# Recipe of retinanet_edgevit_xxs_coco.py.
_base_ = './retinanet_edgevit_xxs_coco.py'

checkpoint_file = 'checkpoints/edgevit_xs.pth'  # no released weights, see the XXS config

model = dict(
    backbone=dict(arch='xs', init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[48, 96, 240, 384]))
