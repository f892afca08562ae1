# PSPNet + EMO-5M on ADE20K, 512x512 crops, 80k iterations.
# Paper (EMO, Table 9): 8.5M params (with the auxiliary head), 5.3G FLOPs, 38.2 mIoU.
# Recipe (EMO paper Sec. 3.2, the authors' mmseg configs and logs): backbone outputs at
# strides 16 / 32 feed the FCN auxiliary head (loss 0.4) / the PSP head (pool scales
# 1, 2, 3, 6), both 256 channels; no dilation (heads on stride 32); window 16 (5M) or
# 7 (1M / 2M); SyncBN, norm_eval False; AdamW lr 1.2e-4, wd 0.01, no decay on norms,
# poly 0.9 to 0, no warm-up; 8 GPUs x 4 images. Single-scale whole-image test at (2048, 512).
# The other EMO variants inherit this file and change the backbone.
_base_ = [
    '../_base_/models/seg_pspnet.py', 'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/seg_adamw-poly_80k.py', '../_base_/models/seg_emo-5m.py'
]

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(_delete_=True, **_base_.emo_backbone),
    decode_head=dict(in_channels=288, channels=256, num_classes=150),
    auxiliary_head=dict(in_channels=160, num_classes=150))

optim_wrapper = _base_.emo_optim_wrapper
# 8 GPUs x 4 images
auto_scale_lr = dict(enable=False, base_batch_size=32)
