# RepNeXt-M3 in the RepNeXt Semantic FPN recipe (RepNeXt paper Sec. 4.2, the authors' sem_fpn
# configs and logs), shared by the ADE20K and Cityscapes configs: all four backbone outputs
# (strides 4/8/16/32) into the FPN neck; backbone BN as SyncBN, training (unfused) form,
# initialised from the distilled ImageNet checkpoint; AdamW wd 0.05, poly power 0.9 to 1e-6 over
# 80k iterations. Variables only, because each config also inherits a model and a schedule base
# that define `model` / `param_scheduler` (two bases may not define the same key):
#     model = dict(backbone=dict(_delete_=True, **_base_.repnext_backbone),
#                  neck=dict(in_channels=_base_.repnext_m3_channels), ...)
#     optim_wrapper = _base_.repnext_optim_wrapper
#     param_scheduler = _base_.repnext_param_scheduler
#
# The authors' distilled ImageNet-1K weights (training form), converted on load. Download
# https://github.com/suous/RepNeXt/releases/download/v1.0/repnext_m3_distill_300e.pth
# into checkpoints/ (or override: --cfg-options model.backbone.init_cfg.checkpoint=PATH).
# A missing file stops the run with its download address
# (train from scratch on purpose: --cfg-options model.backbone.init_cfg=None).
checkpoint_file = 'checkpoints/repnext_m3_distill_300e.pth'
repnext_backbone = dict(
    type='mmedge.RepNeXt',
    arch='m3',
    norm_cfg=dict(type='SyncBN'),
    init_cfg=dict(
        type='Pretrained', checkpoint=checkpoint_file,
        prefix='backbone.'))
repnext_m3_channels = [64, 128, 256, 512]
repnext_optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
repnext_param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-6,
        power=0.9,
        begin=0,
        end=80000,
        by_epoch=False)
]
