# Semantic FPN + RepNeXt-M4 on ADE20K, 512x512 crops, 80k iterations; recipe:
# fpn_repnext_m3_ade20k.py.
# Paper (RepNeXt, Table 4): 43.3 mIoU; the paper gives no params / FLOPs.
_base_ = './fpn_repnext_m3_ade20k.py'

# https://github.com/suous/RepNeXt/releases/download/v1.0/repnext_m4_distill_300e.pth
checkpoint_file = 'checkpoints/repnext_m4_distill_300e.pth'

# same widths as M3, deeper stages
model = dict(
    backbone=dict(arch='m4', init_cfg=dict(checkpoint=checkpoint_file)))
