# EMO-5M in the EMO segmentation recipe (EMO paper Sec. 3.2, the authors' mmseg configs and
# logs), shared by the DeepLabv3 / PSPNet configs on ADE20K and Cityscapes: window 16, drop
# path 0.05, SyncBN (eps 1e-6), norm_eval False, the authors' ImageNet-1K weights; AdamW
# lr 1.2e-4 without decay on norms. Variables only, because each config also inherits a model
# base that defines `model` (two bases may not define the same key):
#     model = dict(backbone=dict(_delete_=True, **_base_.emo_backbone), ...)
#     optim_wrapper = _base_.emo_optim_wrapper
#
# The authors' ImageNet-1K weights (resources/EMO_5M/net.pth in the official repo), converted
# on load. Download https://github.com/zhangzjn/EMO/raw/main/resources/EMO_5M/net.pth
# to checkpoints/EMO_5M/net.pth (or override: --cfg-options
# model.backbone.init_cfg.checkpoint=PATH). A missing file stops the run with its download
# address (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/EMO_5M/net.pth'
emo_backbone = dict(
    type='mmedge.EMO',
    arch='5m',
    window_size=16,
    drop_path_rate=0.05,
    norm_cfg=dict(type='SyncBN', eps=1e-6),
    init_cfg=dict(
        type='Pretrained', checkpoint=checkpoint_file, prefix='backbone.'))
emo_optim_wrapper = dict(
    optimizer=dict(lr=1.2e-4),
    paramwise_cfg=dict(custom_keys=dict(norm=dict(decay_mult=0.))))
