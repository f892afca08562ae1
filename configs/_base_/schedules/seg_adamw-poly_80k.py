# AdamW with poly learning-rate decay (power 0.9, to 0) over 80k iterations: the mmseg
# schedule shape shared by the EMO, EdgeViT and RepNeXt ADE20K recipes. Configs set the
# learning rate, weight decay and final learning rate of their paper.
_base_ = 'mmseg::_base_/schedules/schedule_80k.py'

optimizer = dict(
    _delete_=True,
    type='AdamW',
    lr=1e-4,
    betas=(0.9, 0.999),
    weight_decay=0.01)
optim_wrapper = dict(optimizer=optimizer)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.,
        power=0.9,
        begin=0,
        end=80000,
        by_epoch=False)
]
