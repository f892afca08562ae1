# RetinaNet 1x + EMO-1M on COCO 2017.
# Official README (not in the paper): 10.4M params, 163G FLOPs, 34.4 box AP.
# Recipe of retinanet_emo_5m_coco.py with the official window size 7 and the ImageNet
# drop-path rate of EMO-1M.
_base_ = './retinanet_emo_5m_coco.py'

# https://github.com/zhangzjn/EMO/raw/main/resources/EMO_1M/net.pth
checkpoint_file = 'checkpoints/EMO_1M/net.pth'

model = dict(
    backbone=dict(
        arch='1m',
        window_size=7,
        drop_path_rate=0.04036,
        init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(in_channels=[32, 48, 80, 168]))
