# PSPNet + EMO-5M on Cityscapes, 512x1024 crops, 80k iterations (no paper pairing).
# EMO's ADE20K recipe (pspnet_emo_5m_ade20k.py) on mmseg's Cityscapes 512x1024 set-up:
# backbone outputs at strides 16 / 32 feed the FCN auxiliary head (loss 0.4) / the PSP head,
# both 256 channels; window 16; AdamW lr 1.2e-4, wd 0.01, no decay on norms, poly 0.9 to
# 0; 8 GPUs x 2 images; whole-image test at 1024x2048.
_base_ = [
    '../_base_/models/seg_pspnet.py', 'mmseg::_base_/datasets/cityscapes.py',
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

crop_size = (512, 1024)
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
    decode_head=dict(in_channels=288, channels=256),
    auxiliary_head=dict(in_channels=160))

optim_wrapper = dict(
    optimizer=dict(lr=1.2e-4),
    paramwise_cfg=dict(custom_keys=dict(norm=dict(decay_mult=0.))))
# 8 GPUs x 2 images
auto_scale_lr = dict(enable=False, base_batch_size=16)
