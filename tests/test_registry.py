"""``type='mmedge.X'`` builds under the mmdet, mmseg and mmpretrain default scopes (no custom_imports)."""
import pytest
import torch
from conftest import needs_mmdet, needs_mmpretrain, needs_mmseg

BACKBONE = dict(type='mmedge.EdgeNeXt', arch='xx_small', out_indices=(1, 2, 3))
CHANNELS = [48, 88, 168]


def test_registry_is_a_scoped_child_of_the_root():
    from mmengine.registry import MODELS as ROOT

    from mmedge.registry import MODELS
    assert MODELS.scope == 'mmedge'
    assert MODELS.parent is ROOT
    assert ROOT.children['mmedge'] is MODELS
    # lazy: the location import registers the backbones
    assert MODELS.get('EdgeNeXt').__module__ == 'mmedge.models.backbones.edgenext'
    assert MODELS.get('LN2d').__module__ == 'mmedge.models.layers.norm'


@needs_mmdet
def test_detector_under_mmdet_scope(scope):
    from mmdet.registry import MODELS
    from mmengine.model import revert_sync_batchnorm
    cfg = dict(
        type='RetinaNet',
        data_preprocessor=dict(type='DetDataPreprocessor', pad_size_divisor=32),
        backbone=BACKBONE,
        neck=dict(type='FPN', in_channels=CHANNELS, out_channels=32,
                  start_level=0, add_extra_convs='on_input', num_outs=4),
        bbox_head=dict(
            type='RetinaHead', num_classes=3, in_channels=32,
            stacked_convs=1, feat_channels=32,
            anchor_generator=dict(
                type='AnchorGenerator', octave_base_scale=4,
                scales_per_octave=1, ratios=[1.0], strides=[8, 16, 32, 64]),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder',
                            target_means=[0.] * 4, target_stds=[1.] * 4),
            loss_cls=dict(type='FocalLoss', use_sigmoid=True),
            loss_bbox=dict(type='L1Loss')),
        test_cfg=dict(nms_pre=100, score_thr=0.05,
                      nms=dict(type='nms', iou_threshold=0.5),
                      max_per_img=10))
    with scope('mmdet'):
        model = revert_sync_batchnorm(MODELS.build(cfg))
    assert type(model.backbone).__module__.startswith('mmedge.')
    model.init_weights()
    feats = model.extract_feat(torch.randn(1, 3, 64, 64))
    assert [f.shape[1] for f in feats] == [32] * 4


@needs_mmseg
def test_segmentor_under_mmseg_scope(scope):
    from mmseg.registry import MODELS
    cfg = dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor',
                               size_divisor=32),
        backbone=BACKBONE,
        decode_head=dict(
            type='FCNHead', in_channels=168, channels=16, num_convs=1,
            num_classes=4, norm_cfg=dict(type='BN')),
        test_cfg=dict(mode='whole'))
    with scope('mmseg'):
        model = MODELS.build(cfg)
    assert type(model.backbone).__module__.startswith('mmedge.')
    model.init_weights()
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64), mode='tensor')
    assert out.shape == (1, 4, 2, 2)


@needs_mmpretrain
def test_classifier_under_mmpretrain_scope(scope):
    from mmpretrain.registry import MODELS
    cfg = dict(
        type='ImageClassifier',
        backbone=dict(BACKBONE, out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=5, in_channels=168))
    with scope('mmpretrain'):
        model = MODELS.build(cfg)
    # mmpretrain has its own EdgeNeXt: the prefix must pick ours
    assert type(model.backbone).__module__.startswith('mmedge.')
    model.init_weights()
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 64, 64), mode='tensor')
    assert out.shape == (2, 5)


@needs_mmdet
def test_unprefixed_name_does_not_resolve(scope):
    from mmdet.registry import MODELS
    with scope('mmdet'):
        with pytest.raises(KeyError):
            MODELS.build(dict(type='EdgeNeXt'))
