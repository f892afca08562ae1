# Semantic FPN + EdgeViT-S on ADE20K, 512x512 crops, 80k iterations; recipe:
# fpn_edgevit_xxs_ade20k.py.
# Paper (EdgeViT, Fig. 4 table): 16.9M params, 32.1 GFLOPs at 512x512, 45.9 mIoU.
_base_ = './fpn_edgevit_xxs_ade20k.py'

# No released weights: train configs/cls_edgevit_s_in1k.py (see the base file).
checkpoint_file = 'checkpoints/edgevit_s.pth'

model = dict(
    backbone=dict(arch='s', init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[48, 96, 240, 384]))
