# mmdet's stock SSDLite + MobileNetV2 model (ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py:
# backbone stages 4 / 7, neck (96, 1280, 512, 256, 256, 128)) trained from scratch on the toy
# data and schedule of toy_ssdlite_edgenext_s_coco.py: the baseline of the learnability
# benchmark. The head is mmedge.SSDLiteHead (mmdet 3.3.0's SSDHead cannot predict).
_base_ = './toy_ssdlite_edgenext_s_coco.py'

neck_channels = (96, 1280, 512, 256, 256, 128)
model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        out_indices=(4, 7),
        norm_cfg=dict(type='BN', eps=0.001, momentum=0.03),
        init_cfg=dict(type='TruncNormal', layer='Conv2d', std=0.03)),
    neck=dict(in_channels=(96, 1280), out_channels=neck_channels),
    bbox_head=dict(in_channels=neck_channels))
