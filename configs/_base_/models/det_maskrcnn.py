# Mask R-CNN (mmdet's R-50 FPN model: FPN on strides 4-32 + max-pooled P6, RPN, Shared2FC box
# head, 4-conv mask head) with the backbone slot emptied for an mmedge backbone that returns
# all four stages. A config sets the backbone (type, arch, init_cfg) and neck.in_channels.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'
custom_imports = dict(imports=['mmedge.models'], allow_failed_imports=False)

model = dict(backbone=dict(_delete_=True, out_indices=(0, 1, 2, 3)))
