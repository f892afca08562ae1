import argparse
import os.path as osp

import pytest
import torch

from backbone_contract import assert_close_to_reference, load_reference_keys
from conftest import needs_mmpretrain
from mmedge.converters import CONVERTERS
from mmedge.converters.emo import convert_emo
from mmedge.models import EMO

VARIANTS = ('1m', '2m', '5m', '6m')
CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'emo')
HEAD_KEYS = ('norm.norm.weight', 'norm.norm.bias', 'head.weight', 'head.bias')


def _zeros(ref_dir, name):
    return {
        k:
        torch.zeros(
            shape,
            dtype=torch.long
            if k.endswith('num_batches_tracked') else torch.float32)
        for k, shape in load_reference_keys(ref_dir, name).items()
    }


def _classifier(variant, scope):
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(osp.join(CONFIGS, f'cls_emo_{variant}_in1k.py'))
    with scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    assert type(model.backbone).__module__.startswith('mmedge.')
    assert type(model.head).__module__.startswith('mmedge.')
    return revert_sync_batchnorm(model).eval()


def test_registered():
    assert CONVERTERS['emo'] is convert_emo
    assert EMO.converter == 'emo'


@pytest.mark.parametrize('variant', VARIANTS)
def test_official_keys_load_strict(ref_dir, variant):
    model = EMO(arch=variant)
    for name in (f'emo_{variant}', f'emo_{variant}_det'):
        official = _zeros(ref_dir, name)
        assert any(k in official
                   for k in HEAD_KEYS) == (not name.endswith('_det'))
        converted = convert_emo(official)
        model.load_state_dict(converted, strict=True)
        # idempotent, and unchanged by a ``backbone.`` prefix / det heads
        assert convert_emo(converted).keys() == converted.keys()
        det = {f'backbone.{k}': v for k, v in official.items()}
        det.update({
            'neck.fpn.0.weight': torch.zeros(1),
            'bbox_head.cls.weight': torch.zeros(1)
        })
        assert convert_emo({'meta': {}, 'state_dict': det}).keys() == \
            converted.keys()


def test_key_map(ref_dir):
    official = _zeros(ref_dir, 'emo_1m')
    sd = convert_emo(official)
    assert 'stem.conv.conv.bias' in sd and 'stem.conv.norm.running_var' in sd
    assert 'stem.block.se.conv_reduce.weight' in sd
    assert 'stem.block.proj.weight' in sd
    assert 'stages.2.1.norm.weight' in sd  # LayerNorm2d wrapper removed
    assert 'stages.2.1.qk.bias' in sd and 'stages.0.0.v.bias' in sd
    assert 'stages.3.2.conv_local.norm.weight' in sd
    assert not any(k.startswith(('head', 'norm')) for k in sd)
    full = convert_emo(official, keep_head=True)
    assert {k
            for k in full if not k.startswith('backbone.')} == {
                'head.norm.weight', 'head.norm.bias', 'head.fc.weight',
                'head.fc.bias'
            }
    assert convert_emo(full, keep_head=True).keys() == full.keys()
    assert convert_emo(full).keys() == sd.keys()
    assert len(full) == len(official)


@needs_mmpretrain
@pytest.mark.parametrize('variant', VARIANTS)
def test_classifier_loads_official_keys(ref_dir, scope, variant):
    model = _classifier(variant, scope)
    official = _zeros(ref_dir, f'emo_{variant}')
    model.load_state_dict(convert_emo(official, keep_head=True), strict=True)
    assert model.backbone.arch_name == variant


@needs_mmpretrain
def test_classifier_reproduces_logits(ref_dir, scope):
    state = torch.load(osp.join(ref_dir, 'fixtures', 'emo_1m_state.pth'))
    io = torch.load(osp.join(ref_dir, 'fixtures', 'emo_1m_io.pth'))
    model = _classifier('1m', scope)
    model.load_state_dict(convert_emo(state, keep_head=True), strict=True)
    with torch.no_grad():
        logits = model(io['input'], mode='tensor')
    assert_close_to_reference(logits, io['logits'], 'emo_1m logits')


def test_pretrained_file(ref_dir, tmp_path):
    state = torch.load(osp.join(ref_dir, 'fixtures', 'emo_1m_state.pth'))
    io = torch.load(osp.join(ref_dir, 'fixtures', 'emo_1m_io.pth'))
    path = str(tmp_path / 'emo_1m_official.pth')
    torch.save({'model': state, 'args': argparse.Namespace(lr=1.)}, path)
    direct = EMO(arch='1m').eval()
    direct.load_state_dict(convert_emo(state), strict=True)
    loaded = EMO(
        arch='1m', init_cfg=dict(type='Pretrained', checkpoint=path)).eval()
    loaded.init_weights()
    x = io['input'][:1]
    with torch.no_grad():
        for a, b in zip(direct(x), loaded(x)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    # a detector checkpoint of the official mmdet backbone, with prefix
    det = {
        f'backbone.{k}': v
        for k, v in state.items() if not k.startswith(('norm.', 'head.'))
    }
    det['bbox_head.retina_cls.weight'] = torch.zeros(1)
    path = str(tmp_path / 'retinanet_emo_1m.pth')
    torch.save({'meta': {}, 'state_dict': det}, path)
    loaded = EMO(
        arch='1m',
        init_cfg=dict(type='Pretrained', checkpoint=path,
                      prefix='backbone.')).eval()
    loaded.init_weights()
    with torch.no_grad():
        for a, b in zip(direct(x), loaded(x)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_wrong_variant_raises(ref_dir, tmp_path):
    for src, dst in (('5m', '1m'), ('6m', '5m'), ('1m', '2m')):
        path = str(tmp_path / f'emo_{src}.pth')
        torch.save({'model': _zeros(ref_dir, f'emo_{src}')}, path)
        model = EMO(
            arch=dst, init_cfg=dict(type='Pretrained', checkpoint=path))
        with pytest.raises(ValueError, match='another variant'):
            model.init_weights()
