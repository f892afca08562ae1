# EMO-6M on ImageNet-1K, 224x224 (paper: 6.1M params, 961M FLOPs, 79.0 top-1).
# Same recipe as EMO-5M.
_base_ = './cls_emo_5m_in1k.py'

model = dict(backbone=dict(arch='6m'), head=dict(in_channels=320))
