# SSDLite + EdgeNeXt-XXS trained from scratch on the generated toy COCO set: the toy data, 256x256
# input and schedule of toy_ssdlite_edgenext_s_coco.py with the smallest EdgeNeXt. The quick
# start (tools/quickstart.sh) and ours in the learnability benchmark. The neck keeps the
# EdgeNeXt-S extra levels (256, 128, 128, 64).
_base_ = './toy_ssdlite_edgenext_s_coco.py'

neck_channels = (88, 168, 256, 128, 128, 64)
model = dict(
    backbone=dict(arch='xx_small'),
    neck=dict(in_channels=(88, 168), out_channels=neck_channels),
    bbox_head=dict(in_channels=neck_channels))
