# SSDLite 320x320 + EMO-2M on COCO 2017.
# Paper (EMO, Table 8): 3.3M params, 0.9G FLOPs, 25.2 box mAP.
# Recipe of EMO-5M (ssdlite_emo_5m_coco.py) with the official window size 7.
_base_ = './ssdlite_emo_5m_coco.py'

# https://github.com/zhangzjn/EMO/raw/main/resources/EMO_2M/net.pth
checkpoint_file = 'checkpoints/EMO_2M/net.pth'

model = dict(
    backbone=dict(
        arch='2m', window_size=7, init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(
        in_channels=(120, 200), out_channels=(120, 200, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(120, 200, 512, 256, 256, 128)))
