# RetinaNet 1x + EMO-2M on COCO 2017.
# Official README (not in the paper): 11.5M params, 167G FLOPs, 36.2 box AP.
# Recipe of retinanet_emo_5m_coco.py with the official window size 7.
_base_ = './retinanet_emo_5m_coco.py'

# https://github.com/zhangzjn/EMO/raw/main/resources/EMO_2M/net.pth
checkpoint_file = 'checkpoints/EMO_2M/net.pth'

model = dict(
    backbone=dict(
        arch='2m', window_size=7, init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[32, 48, 120, 200]))
