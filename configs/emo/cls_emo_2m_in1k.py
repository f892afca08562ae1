# EMO-2M on ImageNet-1K, 224x224 (paper Table 7: 2.3M params, 439M FLOPs, 75.1 top-1).
# Same recipe as EMO-5M.
_base_ = './cls_emo_5m_in1k.py'

model = dict(backbone=dict(arch='2m'), head=dict(in_channels=200))
