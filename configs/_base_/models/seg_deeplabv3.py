# mmseg's DeepLabv3 (ASPP head on backbone output 3, stride 32, and an FCN auxiliary head
# on output 2, stride 16) prepared for mmedge backbones. A config replaces the backbone
# (`_delete_=True`, `type='mmedge.<Family>'`) and sets the heads' in_channels.
_base_ = 'mmseg::_base_/models/deeplabv3_r50-d8.py'
custom_imports = dict(imports=['mmedge.models'], allow_failed_imports=False)

# Pad test images to a multiple of 32 (ADE20K's whole-image test gives e.g. 512x683).
data_preprocessor = dict(test_cfg=dict(size_divisor=32))
model = dict(
    # mmseg would copy `pretrained` into the backbone config; mmedge backbones load
    # weights through init_cfg instead.
    pretrained=None,
    data_preprocessor=data_preprocessor)
