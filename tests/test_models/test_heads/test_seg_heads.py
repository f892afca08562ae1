"""The mmedge segmentation heads: EfficientViTSegHead and MobileViTASPPHead."""
import pytest
import torch
from conftest import needs_mmseg

pytestmark = needs_mmseg


def _feats(b=2, size=64, channels=(24, 48, 96, 192)):
    return [
        torch.rand(b, c, size // 2**(i + 2), size // 2**(i + 2))
        for i, c in enumerate(channels)
    ]


def test_efficientvit_seg_head_layout_and_shapes():
    from mmedge.models.heads import EfficientViTSegHead
    head = EfficientViTSegHead(
        in_channels=(48, 192),
        channels=32,
        num_classes=5,
        norm_cfg=dict(type='BN'))
    assert head.in_index == [1, 3]
    assert head.input_transform == 'multiple_select'
    # high-res 1x1 (no act); low-res dilated depthwise 3x3 + act, then 1x1 (no act)
    assert head.higher_res_conv.conv.kernel_size == (1, 1)
    assert not head.higher_res_conv.with_activation
    assert head.lower_res_dwconv.with_activation
    assert not head.lower_res_conv.with_activation
    dw = head.lower_res_dwconv.conv
    assert dw.groups == 192 and dw.dilation == (4, 4) and dw.padding == (4, 4)
    assert isinstance(head.fusion_act, torch.nn.Hardswish)
    assert len(head.convs) == 2
    out = head(_feats())
    assert out.shape == (2, 5, 8, 8)  # stride 8 of a 64x64 input
    # odd sizes: the stride-32 map is resized to whatever the stride-8 map is
    feats = [
        torch.rand(1, 24, 17, 23),
        torch.rand(1, 48, 9, 12),
        torch.rand(1, 96, 5, 6),
        torch.rand(1, 192, 3, 3)
    ]
    assert head(feats).shape == (1, 5, 9, 12)
    out.sum().backward()


def test_efficientvit_seg_head_rejects_bad_arguments():
    from mmedge.models.heads import EfficientViTSegHead
    with pytest.raises(ValueError, match='two'):
        EfficientViTSegHead(
            in_channels=(48, 96, 192),
            channels=16,
            num_classes=3,
            in_index=(1, 2, 3))
    with pytest.raises(ValueError, match='multiple_select'):
        EfficientViTSegHead(
            in_channels=(48, 192),
            channels=16,
            num_classes=3,
            input_transform='resize_concat')
    with pytest.raises(ValueError, match='lower_dilation'):
        EfficientViTSegHead(
            in_channels=(48, 192),
            channels=16,
            num_classes=3,
            lower_dilation=0)


def test_heads_are_registered_in_mmedge_scope(scope):
    from mmseg.registry import MODELS

    from mmedge.registry import MODELS as MMEDGE_MODELS
    assert MMEDGE_MODELS.get('EfficientViTSegHead') is not None
    assert MMEDGE_MODELS.get('MobileViTASPPHead') is not None
    with scope('mmseg'):
        head = MODELS.build(
            dict(
                type='mmedge.EfficientViTSegHead',
                in_channels=(48, 192),
                channels=16,
                num_classes=3))
    assert type(head).__module__ == 'mmedge.models.heads.efficientvit_seg_head'


def test_mobilevit_aspp_head_projects_with_1x1():
    from mmseg.models.decode_heads import ASPPHead

    from mmedge.models.heads import MobileViTASPPHead
    kwargs = dict(
        in_channels=304,
        in_index=3,
        channels=128,
        dilations=(1, 6, 12, 18),
        num_classes=21,
        norm_cfg=dict(type='BN'))
    ours, stock = MobileViTASPPHead(**kwargs), ASPPHead(**kwargs)
    assert ours.bottleneck.conv.kernel_size == (1, 1)
    assert ours.bottleneck.conv.in_channels == 5 * 128
    n = sum(p.numel() for p in ours.parameters())
    n_stock = sum(p.numel() for p in stock.parameters())
    assert n_stock - n == 8 * 5 * 128 * 128  # 3x3 vs 1x1 projection
    # EdgeNeXt-S stage 4 (304 ch): 1.215M head params (+ 5.28M backbone = 6.5M)
    assert abs(n - 1.2146e6) < 2e3
    out = ours(_feats(channels=(48, 96, 160, 304)))
    assert out.shape == (2, 21, 2, 2)
