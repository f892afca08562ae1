# SSDLite 320x320 on COCO 2017 with an mmedge backbone: mmdet's MobileNetV2 SSDLite recipe
# (separable SSDNeck + SSD head on 6 levels, 320x320 SSD augmentation, RepeatDataset x5,
# cosine schedule) with the backbone slot emptied and the head replaced by mmedge.SSDLiteHead
# (mmdet 3.3.0's SSDHead crashes in predict). The stride-16 and stride-32 backbone outputs
# (stages 2 and 3) feed the neck, as in the EdgeNeXt (MobileViT / ml-cvnets set-up) and EMO
# SSDLite models. A config sets the backbone (type, arch, init_cfg), the neck's in/out
# channels, the head's in_channels and the optimizer.
_base_ = 'mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py'
custom_imports = dict(imports=['mmedge.models'], allow_failed_imports=False)

model = dict(
    backbone=dict(_delete_=True, out_indices=(2, 3)),
    bbox_head=dict(type='mmedge.SSDLiteHead'))
