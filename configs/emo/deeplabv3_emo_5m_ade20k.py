# DeepLabv3 + EMO-5M on ADE20K, 512x512 crops, 80k iterations.
# Paper (EMO, Table 9): 10.3M params (with the auxiliary head), 5.8G FLOPs, 37.8 mIoU.
# Recipe (spec emo.md §7.3, the authors' mmseg configs and logs): backbone outputs at
# strides 16 / 32 feed the FCN auxiliary head (loss 0.4) / the ASPP head, both 256 channels;
# no dilation (heads on stride 32); window 16 (5M) or 7 (1M / 2M); SyncBN, norm_eval False;
# AdamW lr 1.2e-4, wd 0.01, no decay on norms, poly 0.9 to 0, no warm-up;
# 8 GPUs x 4 images. Single-scale whole-image test at (2048, 512).
# The other EMO variants inherit this file and change the backbone.
_base_ = [
    '../_base_/models/seg_deeplabv3.py', 'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/seg_adamw-poly_80k.py'
]

# The authors' ImageNet-1K weights (resources/EMO_5M/net.pth in the official repo),
# converted on load. Download
# https://github.com/zhangzjn/EMO/raw/main/resources/EMO_5M/net.pth
# to checkpoints/EMO_5M/net.pth (or override: --cfg-options
# model.backbone.init_cfg.checkpoint=PATH). A missing file gives a warning and the
# backbone trains from scratch.
checkpoint_file = 'checkpoints/EMO_5M/net.pth'

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        _delete_=True,
        type='mmedge.EMO',
        arch='5m',
        window_size=16,
        drop_path_rate=0.05,
        norm_cfg=dict(type='SyncBN', eps=1e-6),
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file)),
    decode_head=dict(in_channels=288, channels=256, num_classes=150),
    auxiliary_head=dict(in_channels=160, num_classes=150))

optim_wrapper = dict(
    optimizer=dict(lr=1.2e-4),
    paramwise_cfg=dict(custom_keys=dict(norm=dict(decay_mult=0.))))
# 8 GPUs x 4 images
auto_scale_lr = dict(enable=False, base_batch_size=32)
