import argparse
import os.path as osp

import pytest
import torch

from backbone_contract import assert_close_to_reference, load_reference_keys
from conftest import needs_mmpretrain
from mmedge.converters import CONVERTERS
from mmedge.converters.edgenext import convert_edgenext
from mmedge.models import EdgeNeXt

# official variant name -> config token
VARIANTS = {
    'xx_small': 'xxs',
    'x_small': 'xs',
    'small': 's',
    'base': 'b',
    'xx_small_bn_hs': 'xxs-bnhs',
    'x_small_bn_hs': 'xs-bnhs',
    'small_bn_hs': 's-bnhs'
}
CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'edgenext')


def _zeros(ref_dir, variant):
    return {
        k:
        torch.zeros(
            shape,
            dtype=torch.long
            if k.endswith('num_batches_tracked') else torch.float32)
        for k, shape in load_reference_keys(ref_dir,
                                            f'edgenext_{variant}').items()
    }


def _fixture(ref_dir, name):
    return torch.load(osp.join(ref_dir, 'fixtures', name), weights_only=True)


def _classifier(token, scope):
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(osp.join(CONFIGS, f'cls_edgenext_{token}_in1k.py'))
    with scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    assert type(model.backbone).__module__.startswith('mmedge.')
    return revert_sync_batchnorm(model).eval()


def test_registered():
    assert CONVERTERS['edgenext'] is convert_edgenext
    assert EdgeNeXt.converter == 'edgenext'


@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_official_keys_load_strict(ref_dir, variant):
    official = _zeros(ref_dir, variant)
    converted = convert_edgenext(official)
    EdgeNeXt(arch=variant).load_state_dict(converted, strict=True)
    assert not any(
        k.startswith(('head.', 'norm.', 'norm3.')) for k in converted)
    # idempotent; the same from a checkpoint dict, a classifier / detector
    # state dict with ``backbone.`` keys, or our own keep_head output
    assert convert_edgenext(converted).keys() == converted.keys()
    det = {f'backbone.{k}': v for k, v in official.items()}
    det.update({
        'neck.0.weight': torch.zeros(1),
        'bbox_head.cls_convs.0.weight': torch.zeros(1)
    })
    for wrapped in ({
            'model': official,
            'args': argparse.Namespace()
    }, {
            'meta': {},
            'state_dict': det
    }, convert_edgenext(official, keep_head=True)):
        assert convert_edgenext(wrapped).keys() == converted.keys()
    full = convert_edgenext(official, keep_head=True)
    assert convert_edgenext(full, keep_head=True).keys() == full.keys()
    assert len(full) == len(official)
    assert {k
            for k in full if not k.startswith('backbone.')
            } == {'head.fc.weight', 'head.fc.bias'}
    cls = EdgeNeXt(arch=variant, out_indices=3, gap_before_final_norm=True)
    cls.load_state_dict(
        {
            k[9:]: v
            for k, v in full.items() if k.startswith('backbone.')
        },
        strict=True)


def test_key_map(ref_dir):
    sd = convert_edgenext(_zeros(ref_dir, 'xx_small'))
    for key in ('downsample_layers.0.0.bias', 'downsample_layers.3.1.weight',
                'stages.0.0.depthwise_conv.weight',
                'stages.0.0.pointwise_conv1.weight', 'stages.0.0.gamma',
                'stages.1.1.conv_modules.0.weight',
                'stages.1.1.pos_embed.proj.weight',
                'stages.1.1.norm_csa.weight', 'stages.1.1.gamma_csa',
                'stages.1.1.csa.scale', 'stages.1.1.csa.qkv.weight',
                'stages.3.1.csa.proj.bias', 'stages.3.1.pointwise_conv2.bias'):
        assert key in sd, key
    bn = convert_edgenext(_zeros(ref_dir, 'xx_small_bn_hs'))
    assert 'stages.1.1.norm_csa.running_var' in bn
    assert 'stages.0.0.norm.num_batches_tracked' in bn
    full = convert_edgenext(_zeros(ref_dir, 'xx_small_bn_hs'), keep_head=True)
    assert 'backbone.norm3.running_mean' in full


def test_mmpretrain_layout_checkpoint_loads(ref_dir, tmp_path):
    """A checkpoint in mmpretrain's layout (backbone.* + norm3 + head.fc)."""
    state = _fixture(ref_dir, 'edgenext_xx_small_state.pth')
    full = convert_edgenext(state, keep_head=True)
    path = str(tmp_path / 'mmpretrain_edgenext.pth')
    torch.save({'meta': {}, 'state_dict': full}, path)
    model = EdgeNeXt(
        arch='xxsmall',
        init_cfg=dict(type='Pretrained', checkpoint=path,
                      prefix='backbone.')).eval()
    model.init_weights()
    direct = EdgeNeXt(arch='xx_small').eval()
    direct.load_state_dict(convert_edgenext(state), strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(direct(x), model(x)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_pretrained_file(ref_dir, tmp_path):
    state = _fixture(ref_dir, 'edgenext_xx_small_state.pth')
    io = _fixture(ref_dir, 'edgenext_xx_small_io_256x320.pth')
    path = str(tmp_path / 'edgenext_xx_small.pth')
    torch.save({'model': state, 'args': argparse.Namespace(lr=6e-3)}, path)
    direct = EdgeNeXt(arch='xx_small').eval()
    direct.load_state_dict(convert_edgenext(state), strict=True)
    loaded = EdgeNeXt(
        arch='xx_small', init_cfg=dict(type='Pretrained',
                                       checkpoint=path)).eval()
    loaded.init_weights()
    with torch.no_grad():
        a, b = direct(io['input']), loaded(io['input'])
    for i in range(4):
        torch.testing.assert_close(a[i], b[i], rtol=0, atol=0)
        assert_close_to_reference(b[i], io['feats'][i], f'stage {i}')


def test_wrong_variant_raises(ref_dir, tmp_path):
    for src, dst in (('x_small', 'xx_small'), ('small', 'small_bn_hs'),
                     ('xx_small_bn_hs', 'xx_small')):
        path = str(tmp_path / f'edgenext_{src}.pth')
        torch.save({'model': _zeros(ref_dir, src)}, path)
        model = EdgeNeXt(
            arch=dst, init_cfg=dict(type='Pretrained', checkpoint=path))
        with pytest.raises(ValueError, match='another variant'):
            model.init_weights()


@needs_mmpretrain
@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_classifier_loads_official_keys(ref_dir, scope, variant):
    model = _classifier(VARIANTS[variant], scope)
    assert model.backbone.arch_name == variant
    model.load_state_dict(
        convert_edgenext(_zeros(ref_dir, variant), keep_head=True),
        strict=True)


@needs_mmpretrain
def test_classifier_reproduces_logits(ref_dir, scope):
    state = _fixture(ref_dir, 'edgenext_xx_small_state.pth')
    model = _classifier('xxs', scope)
    model.load_state_dict(convert_edgenext(state, keep_head=True), strict=True)
    for name in ('edgenext_xx_small_io.pth',
                 'edgenext_xx_small_io_256x320.pth'):
        io = _fixture(ref_dir, name)
        with torch.no_grad():
            logits = model(io['input'], mode='tensor')
        assert_close_to_reference(logits, io['logits'], f'{name} logits')
