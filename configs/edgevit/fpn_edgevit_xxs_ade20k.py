# Semantic FPN + EdgeViT-XXS on ADE20K, 512x512 crops, 80k iterations.
# Paper (EdgeViT, Fig. 4 table): 7.9M params, 24.4 GFLOPs at 512x512, 39.7 mIoU.
# Recipe (EdgeViT paper Sec. 4.2, "following PVT / PVTv2"): all four backbone
# outputs (strides 4/8/16/32) feed the FPN neck (256 channels) and the FPN head (128
# channels); no auxiliary head; AdamW lr 1e-4, batch 16, 80k iterations (paper); poly
# power 0.9 to 0 and weight decay 1e-4 (PVT's fpn_pvt_*_ade20k configs); test: shorter
# side 512, padded to a multiple of 32 (PVT's AlignResize). Backbone BN as SyncBN, drop
# path 0.1 (the official code's default; the paper gives none).
# The other EdgeViT variants inherit this file and change the backbone.
_base_ = [
    '../_base_/models/seg_fpn.py', 'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/seg_adamw-poly_80k.py'
]

# The authors released no ImageNet weights (saic-fi/edgevit has none): train
# configs/cls_edgevit_xxs_in1k.py and copy its checkpoint to checkpoints/edgevit_xxs.pth
# (or override: --cfg-options model.backbone.init_cfg.checkpoint=PATH). A missing file stops the run with its download
# address (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/edgevit_xxs.pth'

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        _delete_=True,
        type='mmedge.EdgeViT',
        arch='xxs',
        drop_path_rate=0.1,
        norm_cfg=dict(type='SyncBN'),
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint_file,
            prefix='backbone.')),
    neck=dict(in_channels=[36, 72, 144, 288]),
    decode_head=dict(num_classes=150))

optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
# 4 GPUs x 4 images
auto_scale_lr = dict(enable=False, base_batch_size=16)
