# EMO-1M on ImageNet-1K, 224x224 (paper Table 7: 1.3M params, 261M FLOPs, 71.5 top-1).
# Same recipe as EMO-5M; the official drop-path rate of 1M is 0.04036.
_base_ = './cls_emo_5m_in1k.py'

model = dict(
    backbone=dict(arch='1m', drop_path_rate=0.04036),
    head=dict(in_channels=168))
