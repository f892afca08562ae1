# DeepLabv3 + EMO-2M on ADE20K, 512x512 crops, 80k iterations (recipe: deeplabv3_emo_5m_ade20k.py).
# Paper (EMO, Table 9): 6.9M params (with the auxiliary head), 3.5G FLOPs, 35.3 mIoU.
_base_ = './deeplabv3_emo_5m_ade20k.py'

# https://github.com/zhangzjn/EMO/raw/main/resources/EMO_2M/net.pth (converted on load)
checkpoint_file = 'checkpoints/EMO_2M/net.pth'

model = dict(
    backbone=dict(
        arch='2m',
        window_size=7,
        drop_path_rate=0.05,
        init_cfg=dict(checkpoint=checkpoint_file)),
    decode_head=dict(in_channels=200),
    auxiliary_head=dict(in_channels=120))
