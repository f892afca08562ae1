# RetinaNet 1x + EdgeViT-S on COCO 2017.
# Paper (EdgeViT, Table 5): 22.6M params, 43.4 box AP (mAP@100, val2017).
# Recipe of retinanet_edgevit_xxs_coco.py.
_base_ = './retinanet_edgevit_xxs_coco.py'

checkpoint_file = 'checkpoints/edgevit_s.pth'  # no released weights, see the XXS config

model = dict(
    backbone=dict(arch='s', init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[48, 96, 240, 384]))
