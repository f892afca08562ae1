# YOLOX + EfficientViT-B2 (MIT HAN Lab's released B-series) on COCO 2017 at 512x512: the
# EfficientViT-Det-r512 detector and recipe (yolox_efficientvit_base-r512_coco.py) on the B2
# backbone, for users of the authors' released ImageNet weights. Not a paper pairing.
_base_ = './yolox_efficientvit_b1-r512_coco.py'

# https://huggingface.co/han-cai/efficientvit-cls/resolve/main/efficientvit_b2_r224.pt
checkpoint_file = 'checkpoints/efficientvit_b2_r224.pt'

model = dict(
    backbone=dict(arch='b2', init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[96, 192, 384]))
