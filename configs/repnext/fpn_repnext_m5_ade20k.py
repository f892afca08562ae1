# Semantic FPN + RepNeXt-M5 on ADE20K, 512x512 crops, 80k iterations; recipe:
# fpn_repnext_m3_ade20k.py.
# Paper (RepNeXt, Table 4): 45.0 mIoU; the paper gives no params / FLOPs.
_base_ = './fpn_repnext_m3_ade20k.py'

# https://github.com/suous/RepNeXt/releases/download/v1.0/repnext_m5_distill_300e.pth
checkpoint_file = 'checkpoints/repnext_m5_distill_300e.pth'

model = dict(
    backbone=dict(arch='m5', init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[80, 160, 320, 640]))
