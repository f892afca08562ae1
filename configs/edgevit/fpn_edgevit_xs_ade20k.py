# Semantic FPN + EdgeViT-XS on ADE20K, 512x512 crops, 80k iterations; recipe:
# fpn_edgevit_xxs_ade20k.py.
# Paper (EdgeViT, Fig. 4 table): 10.6M params, 27.7 GFLOPs at 512x512, 41.4 mIoU.
_base_ = './fpn_edgevit_xxs_ade20k.py'

# No released weights: train configs/cls_edgevit_xs_in1k.py (see the base file).
checkpoint_file = 'checkpoints/edgevit_xs.pth'

model = dict(
    backbone=dict(arch='xs', init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[48, 96, 240, 384]))
