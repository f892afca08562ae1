# RetinaNet (mmdet's R-50 FPN model: FPN from stride 8 with P6 / P7 from the stride-32 input,
# 4x256 head, focal loss) with the backbone slot emptied for an mmedge backbone that returns
# all four stages. A config sets the backbone (type, arch, init_cfg) and neck.in_channels.
_base_ = 'mmdet::_base_/models/retinanet_r50_fpn.py'
custom_imports = dict(imports=['mmedge.models'], allow_failed_imports=False)

model = dict(backbone=dict(_delete_=True, out_indices=(0, 1, 2, 3)))
