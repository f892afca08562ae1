# YOLOX + EfficientViT-B1 (MIT HAN Lab's released B-series) on COCO 2017 at 512x512: the
# EfficientViT-Det-r512 detector and recipe (yolox_efficientvit_base-r512_coco.py) on the B1
# backbone, for users of the authors' released ImageNet weights. Not a paper pairing: the
# paper's detector is on EfficientViT-Base (Table 1: 40.7 AP at r512, 3.2G MACs).
_base_ = './yolox_efficientvit_base-r512_coco.py'

# The authors' ImageNet-1K weights, converted on load: download
# https://huggingface.co/han-cai/efficientvit-cls/resolve/main/efficientvit_b1_r224.pt
# into checkpoints/ (or override: --cfg-options model.backbone.init_cfg.checkpoint=PATH).
# A missing file stops the run with its download address
# (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/efficientvit_b1_r224.pt'

model = dict(
    backbone=dict(
        type='mmedge.EfficientViT',
        arch='b1',
        init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[64, 128, 256]))
