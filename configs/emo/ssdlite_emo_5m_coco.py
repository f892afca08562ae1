# SSDLite 320x320 + EMO-5M on COCO 2017.
# Paper (EMO, Table 8): 6.0M params, 1.8G FLOPs, 27.9 box mAP.
# Recipe of the official configs/ssd_emo/ssdlite_emo_5M_pretrain_coco.py (EMO paper Sec. 3.2):
# mmdet's SSDLite (neck (C3, C4, 512, 256, 256, 128), separable convs, BN + ReLU6) on the
# stride-16 / stride-32 outputs; attention window 10 (7 for 1M / 2M), drop path 0.05,
# backbone BN frozen (norm_eval); AdamW lr 1.2e-3, betas (0.9, 0.999), wd 0.05 with no decay
# on the backbone norms, 500 linear warm-up iterations from 0.001x, cosine to 0;
# 120 epochs x RepeatDataset(times=5) = 600 COCO epochs; 8 GPUs x 24 images.
# EMO-1M / 2M inherit this file.
_base_ = '../_base_/det_ssdlite_coco.py'

# The authors' ImageNet-1K weights (resources/EMO_5M/net.pth of github.com/zhangzjn/EMO:
# https://github.com/zhangzjn/EMO/raw/main/resources/EMO_5M/net.pth), converted on load.
# Save it as below or override: --cfg-options model.backbone.init_cfg.checkpoint=PATH.
# A missing file stops the run with its download address
# (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/EMO_5M/net.pth'

model = dict(
    backbone=dict(
        type='mmedge.EMO',
        arch='5m',
        window_size=10,
        drop_path_rate=0.05,
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint_file,
            prefix='backbone.')),
    neck=dict(
        in_channels=(160, 288), out_channels=(160, 288, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(160, 288, 512, 256, 256, 128)))

# official: 'norm' (the backbone's norm layers) without weight decay
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True,
        type='AdamW',
        lr=1.2e-3,
        betas=(0.9, 0.999),
        weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}))
