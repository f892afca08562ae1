# Mask R-CNN 1x + RepNeXt-M5 on COCO 2017.
# Paper (RepNeXt, Table 4): 44.7 box AP, 40.7 mask AP (val2017); no params / FLOPs given.
# Recipe of maskrcnn_repnext_m3_coco.py with the log behind the paper's numbers:
# 8 GPUs x 2 images and weight decay 0.1 (the official config file says 0.05).
_base_ = './maskrcnn_repnext_m3_coco.py'

# https://github.com/suous/RepNeXt/releases/download/v1.0/repnext_m5_distill_300e.pth
checkpoint_file = 'checkpoints/repnext_m5_distill_300e.pth'

model = dict(
    backbone=dict(arch='m5', init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[80, 160, 320, 640]))

optim_wrapper = dict(optimizer=dict(weight_decay=0.1))
# 8 GPUs x 2 images
auto_scale_lr = dict(base_batch_size=16)
