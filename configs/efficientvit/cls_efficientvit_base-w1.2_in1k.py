_base_ = ['./cls_efficientvit_base_in1k.py']

# Width x1.2 (MobileNetV2 rounding to multiples of 8); the head widths are scaled the same
# way as MobileNetV3's (1152 -> 1384, 1536 -> 1840): 590M MACs at 224x224 (paper: 584M).
model = dict(
    backbone=dict(arch='base_w1.2'),
    head=dict(in_channels=232, mid_channels=(1384, 1840)))
