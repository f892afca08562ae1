# Mask R-CNN 1x + RepNeXt-M4 on COCO 2017.
# Paper (RepNeXt, Table 4): 42.7 box AP, 39.2 mask AP (val2017); no params / FLOPs given.
# Recipe of maskrcnn_repnext_m3_coco.py (the log behind the paper: 4 GPUs x 2 images).
_base_ = './maskrcnn_repnext_m3_coco.py'

# https://github.com/suous/RepNeXt/releases/download/v1.0/repnext_m4_distill_300e.pth
checkpoint_file = 'checkpoints/repnext_m4_distill_300e.pth'

model = dict(
    backbone=dict(arch='m4', init_cfg=dict(checkpoint=checkpoint_file)))
