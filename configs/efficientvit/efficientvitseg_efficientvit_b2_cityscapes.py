# The EfficientViT-Seg head of the first paper on MIT's released EfficientViT-B2 backbone,
# Cityscapes, whole-image inference at 1024x2048 (recipe:
# efficientvitseg_efficientvit_base_cityscapes.py).
# No paper pairing: for users of the released B-series ImageNet weights. (MIT's own
# efficientvit_seg_b2_cityscapes model, 15M params / 74G MACs / 82.1 mIoU, uses a
# different head; its backbone weights also load here with prefix 'backbone.'.)
_base_ = './efficientvitseg_efficientvit_base_cityscapes.py'

# The authors' ImageNet-1K weights, converted on load. Download
# https://huggingface.co/han-cai/efficientvit-cls/resolve/main/efficientvit_b2_r224.pt
# into checkpoints/ (or override: --cfg-options model.backbone.init_cfg.checkpoint=PATH).
# A missing file stops the run with its download address
# (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/efficientvit_b2_r224.pt'

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmedge.EfficientViT',
        arch='b2',
        out_indices=(1, 3),
        norm_cfg=dict(type='SyncBN'),
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint_file,
            prefix='backbone.')),
    decode_head=dict(in_channels=(96, 384)))
