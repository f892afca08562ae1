# mmseg's Semantic FPN (FPN neck on the four backbone outputs, strides 4/8/16/32, 256
# channels; FPNHead with 128 channels; no auxiliary head) prepared for mmedge backbones.
# A config replaces the backbone (`_delete_=True`, `type='mmedge.<Family>'`) and sets
# `neck.in_channels` to the backbone's out_channels.
_base_ = 'mmseg::_base_/models/fpn_r50.py'
custom_imports = dict(imports=['mmedge.models'], allow_failed_imports=False)

# Pad test images to a multiple of 32 (ADE20K's whole-image test gives e.g. 512x683).
data_preprocessor = dict(test_cfg=dict(size_divisor=32))
model = dict(
    # mmseg would copy `pretrained` into the backbone config; mmedge backbones load
    # weights through init_cfg instead.
    pretrained=None,
    data_preprocessor=data_preprocessor)
