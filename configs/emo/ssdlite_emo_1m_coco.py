# SSDLite 320x320 + EMO-1M on COCO 2017.
# Paper (EMO, Table 8): 2.3M params, 0.6G FLOPs, 22.0 box mAP.
# Recipe of EMO-5M (ssdlite_emo_5m_coco.py) with the official window size 7 and the
# ImageNet drop-path rate of EMO-1M.
_base_ = './ssdlite_emo_5m_coco.py'

# https://github.com/zhangzjn/EMO/raw/main/resources/EMO_1M/net.pth
checkpoint_file = 'checkpoints/EMO_1M/net.pth'

model = dict(
    backbone=dict(
        arch='1m',
        window_size=7,
        drop_path_rate=0.04036,
        init_cfg=dict(checkpoint=checkpoint_file)),
    neck=dict(
        in_channels=(80, 168), out_channels=(80, 168, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(80, 168, 512, 256, 256, 128)))
