# PSPNet + EMO-1M on ADE20K, 512x512 crops, 80k iterations (recipe: pspnet_emo_5m_ade20k.py).
# Paper (EMO, Table 9): 4.3M params (with the auxiliary head), 2.1G FLOPs, 33.2 mIoU.
_base_ = './pspnet_emo_5m_ade20k.py'

# https://github.com/zhangzjn/EMO/raw/main/resources/EMO_1M/net.pth (converted on load)
checkpoint_file = 'checkpoints/EMO_1M/net.pth'

model = dict(
    backbone=dict(
        arch='1m',
        window_size=7,
        drop_path_rate=0.04036,
        init_cfg=dict(checkpoint=checkpoint_file)),
    decode_head=dict(in_channels=168),
    auxiliary_head=dict(in_channels=80))
