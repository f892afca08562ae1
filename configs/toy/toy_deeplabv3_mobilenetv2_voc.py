# The learnability baseline: mmseg's stock DeepLabv3 with a MobileNetV2 backbone
# (mmseg::mobilenet_v2/mobilenet-v2-d8_deeplabv3_4xb4-160k_ade20k-512x512.py: MobileNetV2
# with output stride 8, ASPP head with 512 channels on its last output, FCN auxiliary head on
# the 96-channel output), backbone from scratch, with the toy data and schedule of
# toy_deeplabv3_emo_1m_voc.py (inherited, so they are the same by construction).
_base_ = './toy_deeplabv3_emo_1m_voc.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=1.,
        strides=(1, 2, 2, 1, 1, 1, 1),
        dilations=(1, 1, 1, 2, 2, 4, 4),
        out_indices=(1, 2, 4, 6),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=None),
    decode_head=dict(in_channels=320, channels=512),
    auxiliary_head=dict(in_channels=96))
