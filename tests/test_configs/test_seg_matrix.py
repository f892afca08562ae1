"""Every mmedge backbone family in every segmentation framework: build, one training
iteration, one whole-image and one sliding-window inference on CPU (tiny inputs, thin heads).

The framework settings come from the real configs (``TEMPLATES``); only the backbone, the
head widths and the number of classes are changed, so a framework config that stops working
with some family fails here.
"""
import copy
import functools
import os.path as osp

import pytest
import torch
from mmedge.utils.families import smallest_variants
from conftest import config_path, needs_mmseg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# family -> (registered class, smallest arch), read from the registry (every family is tested)
FAMILIES = smallest_variants()
# framework -> the config whose model is the template
TEMPLATES = {
    'deeplabv3': 'deeplabv3_emo_1m_ade20k.py',
    'pspnet': 'pspnet_emo_1m_ade20k.py',
    'fpn': 'fpn_edgevit_xxs_ade20k.py',
    'efficientvitseg': 'efficientvitseg_efficientvit_base_cityscapes.py',
}
WIDTH = 16  # head / neck channels in this test
NUM_CLASSES = 3

pytestmark = needs_mmseg


@pytest.fixture(autouse=True)
def _one_thread():
    # tiny tensors: threading only adds overhead (and oversubscribes shared CI cores)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
    model.data_preprocessor.size = (64, 64)  # the configs pad to their crop size
    cls_name, arch = FAMILIES[family]
    channels = _out_channels(cls_name, arch)
    out_indices = tuple(model.backbone.get('out_indices', (0, 1, 2, 3)))
    model.backbone = dict(
        type=f'mmedge.{cls_name}', arch=arch, out_indices=out_indices)
    outs = [channels[i] for i in out_indices]
    head = model.decode_head
    head.num_classes = NUM_CLASSES
    head.channels = WIDTH
    if model.get('neck'):  # Semantic FPN
        model.neck.in_channels = outs
        model.neck.out_channels = WIDTH
        head.in_channels = [WIDTH] * len(head.in_index)
    elif isinstance(head.in_index, (list, tuple)):
        head.in_channels = [outs[i] for i in head.in_index]
    else:
        head.in_channels = outs[head.in_index]
    aux = model.get('auxiliary_head')
    if aux:
        aux.update(
            num_classes=NUM_CLASSES,
            channels=WIDTH,
            in_channels=outs[aux.in_index])
    return model


def _batch(shapes, with_gt):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    torch.manual_seed(0)
    inputs, samples = [], []
    for h, w in shapes:
        inputs.append(torch.randint(0, 256, (3, h, w), dtype=torch.uint8))
        sample = SegDataSample(
            metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))
        if with_gt:
            sample.gt_sem_seg = PixelData(
                data=torch.randint(0, NUM_CLASSES, (1, h, w)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('framework', list(TEMPLATES))
@pytest.mark.parametrize('family', list(FAMILIES))
def test_family_in_framework(family, framework, scope):
    from mmengine.config import ConfigDict
    from mmengine.model import revert_sync_batchnorm
    from mmengine.optim import OptimWrapper
    from mmseg.registry import MODELS
    cfg = _model_cfg(family, framework)
    with scope('mmseg'):
        model = revert_sync_batchnorm(MODELS.build(cfg))
    assert type(model.backbone).__module__.startswith('mmedge.')

    # one training iteration (data preprocessor -> losses -> backward -> step)
    model.train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    before = [p.detach().clone() for p in model.decode_head.parameters()]
    losses = model.train_step(_batch([(64, 64), (64, 64)], True), optim)
    assert losses and all(torch.isfinite(v).all() for v in losses.values())
    after = list(model.decode_head.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after))

    # whole-image and sliding-window inference on an odd size (padded to 32 first)
    model.eval()
    for test_cfg in (dict(mode='whole'),
                     dict(mode='slide', crop_size=(64, 64), stride=(48, 48))):
        model.test_cfg = ConfigDict(test_cfg)
        with torch.no_grad():
            preds = model.test_step(_batch([(72, 90)], False))
        assert len(preds) == 1
        seg = preds[0].pred_sem_seg.data
        assert seg.shape == (1, 72, 90)
        assert int(seg.min()) >= 0 and int(seg.max()) < NUM_CLASSES
        logits = preds[0].seg_logits.data
        assert logits.shape == (NUM_CLASSES, 72, 90)
        assert torch.isfinite(logits).all()
