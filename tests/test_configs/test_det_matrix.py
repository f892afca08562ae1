"""Every mmedge backbone family in every detection framework: build, one training iteration and
one prediction on CPU (tiny inputs, thin necks / heads).

The framework settings come from the real configs (``TEMPLATES``); only the backbone (each
family's smallest variant, with the stage outputs the template feeds its neck), the neck / head
widths and the number of classes are changed, so a framework config that stops working with
some family fails here.
"""
import copy
import functools
import os.path as osp

import pytest
import torch
from mmedge.utils.families import smallest_variants
from conftest import config_path, needs_mmdet

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# family -> (registered class, smallest arch), read from the registry (every family is tested)
FAMILIES = smallest_variants()
# framework -> the config whose model is the template
TEMPLATES = {
    'ssdlite': 'ssdlite_emo_5m_coco.py',
    'retinanet': 'retinanet_edgevit_xxs_coco.py',
    'maskrcnn': 'maskrcnn_repnext_m3_coco.py',
    'yolox': 'yolox_efficientvit_base-r512_coco.py',
}
WIDTH = 16  # neck / head channels in this test
NUM_CLASSES = 3

pytestmark = needs_mmdet


@functools.lru_cache(maxsize=None)
def _out_channels(cls_name, arch):
    from mmedge.registry import MODELS
    import mmedge.models  # noqa: F401
    return MODELS.get(cls_name)(arch=arch).out_channels


@functools.lru_cache(maxsize=None)
def _template(framework):
    from mmengine.config import Config
    return Config.fromfile(config_path(TEMPLATES[framework]))


def _model_cfg(family, framework):
    model = copy.deepcopy(_template(framework).model)
    cls_name, arch = FAMILIES[family]
    channels = _out_channels(cls_name, arch)
    out_indices = tuple(model.backbone.out_indices)
    model.backbone = dict(
        type=f'mmedge.{cls_name}', arch=arch, out_indices=out_indices)
    outs = [channels[i] for i in out_indices]
    if framework == 'ssdlite':
        levels = tuple(outs) + (2 * WIDTH, WIDTH, WIDTH, WIDTH)
        model.neck.update(in_channels=tuple(outs), out_channels=levels)
        model.bbox_head.update(in_channels=levels, num_classes=NUM_CLASSES)
    elif framework == 'yolox':
        model.data_preprocessor.batch_augments = None
        model.neck.update(in_channels=outs, out_channels=WIDTH)
        model.bbox_head.update(
            in_channels=WIDTH, feat_channels=WIDTH, num_classes=NUM_CLASSES)
    else:
        model.neck.update(in_channels=outs, out_channels=WIDTH)
        if framework == 'retinanet':
            model.bbox_head.update(
                in_channels=WIDTH,
                feat_channels=WIDTH,
                num_classes=NUM_CLASSES)
        else:
            model.rpn_head.update(in_channels=WIDTH, feat_channels=WIDTH)
            roi = model.roi_head
            roi.bbox_roi_extractor.out_channels = WIDTH
            roi.mask_roi_extractor.out_channels = WIDTH
            roi.bbox_head.update(
                in_channels=WIDTH,
                fc_out_channels=2 * WIDTH,
                num_classes=NUM_CLASSES)
            roi.mask_head.update(
                in_channels=WIDTH,
                conv_out_channels=WIDTH,
                num_classes=NUM_CLASSES)
    return model


def _batch(shapes, with_mask=True):
    from mmdet.testing import demo_mm_inputs
    torch.manual_seed(0)
    return demo_mm_inputs(
        batch_size=len(shapes),
        image_shapes=[(3, h, w) for h, w in shapes],
        num_items=[2] * len(shapes),
        num_classes=NUM_CLASSES,
        with_mask=with_mask)


@pytest.mark.parametrize('framework', list(TEMPLATES))
@pytest.mark.parametrize('family', list(FAMILIES))
def test_family_in_framework(family, framework, scope):
    from mmdet.registry import MODELS
    from mmengine.model import revert_sync_batchnorm
    from mmengine.optim import OptimWrapper
    cfg = _model_cfg(family, framework)
    with scope('mmdet'):
        model = revert_sync_batchnorm(MODELS.build(cfg))
    assert type(model.backbone).__module__.startswith('mmedge.')

    # one training iteration (data preprocessor -> losses -> backward -> step); two images,
    # since SSDLite's neck has BatchNorms on 1x1 maps
    model.train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    head = model.roi_head if framework == 'maskrcnn' else model.bbox_head
    before = [p.detach().clone() for p in head.parameters()]
    losses = model.train_step(_batch([(64, 64), (64, 64)]), optim)
    assert losses and all(torch.isfinite(v).all() for v in losses.values())
    assert any(not torch.equal(a, b)
               for a, b in zip(before, head.parameters()))

    # one prediction on an odd size (detectors with pad_size_divisor=32 pad it first)
    model.eval()
    with torch.no_grad():
        preds = model.test_step(_batch([(72, 90)]))
    assert len(preds) == 1
    inst = preds[0].pred_instances
    assert inst.bboxes.ndim == 2 and inst.bboxes.shape[1] == 4
    assert len(inst.bboxes) == len(inst.scores) == len(inst.labels)
    assert torch.isfinite(inst.bboxes).all() and torch.isfinite(
        inst.scores).all()
    if len(inst.labels):
        assert int(inst.labels.max()) < NUM_CLASSES
    if framework == 'maskrcnn':
        assert inst.masks.shape[0] == len(inst.bboxes)
        if len(inst.masks):
            assert tuple(inst.masks.shape[1:]) == (72, 90)
