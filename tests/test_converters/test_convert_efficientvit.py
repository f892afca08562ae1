import argparse
import os.path as osp
import re

import pytest
import torch
from backbone_contract import load_reference_keys
from conftest import needs_mmpretrain

from mmedge.converters import CONVERTERS
from mmedge.converters.efficientvit import convert_efficientvit
from mmedge.models.backbones import EfficientViT

ARCHS = ('b0', 'b1', 'b2', 'b3', 'l1', 'l2', 'l3')
CONFIG = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', 'efficientvit',
    'cls_efficientvit_{}_in1k.py')
TINY = dict(
    widths=(8, 16, 16, 32, 32),
    depths=(1, 2, 1, 1, 2),
    head_dim=8,
    expand_ratio=2,
    large=False)
HEAD_KEYS = {
    'head.in_conv.conv.weight', 'head.in_conv.norm.weight',
    'head.in_conv.norm.bias', 'head.in_conv.norm.running_mean',
    'head.in_conv.norm.running_var', 'head.in_conv.norm.num_batches_tracked',
    'head.hidden.weight', 'head.hidden_norm.weight', 'head.hidden_norm.bias',
    'head.fc.weight', 'head.fc.bias'
}

# mmedge key -> authors' key (the inverse of the converter), for round trips without
# reference data
_TO_OFFICIAL = (
    (r'^stem\.0\.', 'input_stem.op_list.0.'),
    (r'^stem\.(\d+)\.', r'input_stem.op_list.\1.main.'),
    (r'^stages\.(\d+)\.(\d+)\.(inverted|depth|point|spatial)_conv\.',
     r'stages.\1.op_list.\2.main.\3_conv.'),
    (r'^stages\.(\d+)\.(\d+)\.context_module\.qkv\.',
     r'stages.\1.op_list.\2.context_module.main.qkv.conv.'),
    (r'^stages\.(\d+)\.(\d+)\.(context|local)_module\.',
     r'stages.\1.op_list.\2.\3_module.main.'),
    (r'^', 'backbone.'),
)

# the L-series numbers the stem as stage 0
_LARGE_TO_OFFICIAL = ((r'^backbone\.stages\.(\d)\.',
                       lambda m: f'backbone.stages.{int(m[1]) + 1}.'),
                      (r'^backbone\.input_stem\.', 'backbone.stages.0.'))


def _to_official(sd, large=False):
    out = {}
    for k, v in sd.items():
        for pattern, repl in _TO_OFFICIAL + (_LARGE_TO_OFFICIAL if large else
                                             ()):
            k = re.sub(pattern, repl, k)
        out[k] = v
    return out


def _official_head(c_in=32, widths=(24, 40), num_classes=10):
    g = torch.Generator().manual_seed(1)
    head = {
        'head.op_list.0.conv.weight':
        torch.randn(widths[0], c_in, 1, 1, generator=g),
        'head.op_list.0.norm.running_var':
        torch.rand(widths[0], generator=g) + 0.5,
        'head.op_list.0.norm.num_batches_tracked':
        torch.tensor(0),
        'head.op_list.2.linear.weight':
        torch.randn(widths[1], widths[0], generator=g),
        'head.op_list.3.linear.weight':
        torch.randn(num_classes, widths[1], generator=g),
        'head.op_list.3.linear.bias':
        torch.randn(num_classes, generator=g),
    }
    for k in ('weight', 'bias', 'running_mean'):
        head[f'head.op_list.0.norm.{k}'] = torch.randn(widths[0], generator=g)
    for k in ('weight', 'bias'):
        head[f'head.op_list.2.norm.{k}'] = torch.randn(widths[1], generator=g)
    return head


def _tiny(seed=0, large=False):
    torch.manual_seed(seed)
    model = EfficientViT(arch=dict(TINY, large=large))
    for p in model.parameters():  # non-trivial values everywhere
        p.data.normal_(0, 0.2)
    for name, buf in model.named_buffers():
        if name.endswith('running_var'):
            buf.uniform_(0.5, 2.)
        elif name.endswith('running_mean'):
            buf.normal_(0, 0.1)
    return model.eval()


def _zeros(ref_dir, arch, device='meta'):
    return {
        k:
        torch.zeros(
            shape,
            device=device,
            dtype=torch.long
            if k.endswith('num_batches_tracked') else torch.float32)
        for k, shape in load_reference_keys(ref_dir,
                                            f'efficientvit_{arch}').items()
    }


def test_registered():
    assert CONVERTERS['efficientvit'] is convert_efficientvit
    assert EfficientViT.converter == 'efficientvit'


@pytest.mark.parametrize('arch', ARCHS)
def test_official_keys_load_strict(ref_dir, arch):
    sd = _zeros(ref_dir, arch)
    backbone = convert_efficientvit(sd)
    assert all(k.startswith(('stem.', 'stages.')) for k in backbone)
    with torch.device('meta'):
        model = EfficientViT(arch=arch)
    model.load_state_dict(backbone, strict=True)
    model.load_state_dict(
        convert_efficientvit({'state_dict': sd}), strict=True)
    full = convert_efficientvit(sd, keep_head=True)
    assert {k for k in full if not k.startswith('backbone.')} == HEAD_KEYS
    model.load_state_dict(
        {
            k[len('backbone.'):]: v
            for k, v in full.items() if k.startswith('backbone.')
        },
        strict=True)


def test_round_trip_matches_official_layout(ref_dir):
    for arch in ARCHS:
        with torch.device('meta'):
            model = EfficientViT(arch=arch)
        official = set(_zeros(ref_dir, arch))
        ours = set(_to_official(model.state_dict(), arch.startswith('l')))
        assert ours == {k for k in official if k.startswith('backbone.')}


@pytest.mark.parametrize('large', [False, True])
@pytest.mark.parametrize('keep_head', [False, True])
def test_idempotent(keep_head, large):
    model = _tiny(large=large)
    official = _to_official(model.state_dict(), large)
    official.update(_official_head())
    once = convert_efficientvit(official, keep_head=keep_head)
    twice = convert_efficientvit(once, keep_head=keep_head)
    assert list(once) == list(twice)
    assert all(once[k] is twice[k] for k in once)
    # either mode also accepts the other mode's output
    assert set(convert_efficientvit(convert_efficientvit(
        official, True))) == set(convert_efficientvit(official))
    if keep_head:
        assert {k for k in once if k.startswith('head.')} == HEAD_KEYS
    else:
        assert set(once) == set(model.state_dict())


@pytest.mark.parametrize('large', [False, True])
@pytest.mark.parametrize('wrap', ['model', 'state_dict'])
def test_pretrained_official_checkpoint(tmp_path, wrap, large):
    src = _tiny(large=large)
    path = str(tmp_path / 'efficientvit_official.pt')
    official = _to_official(src.state_dict(), large)
    official.update(_official_head())
    torch.save({wrap: official, 'args': argparse.Namespace(model='b0')}, path)
    arch = dict(TINY, large=large)
    model = EfficientViT(
        arch=arch, init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    model.eval()
    direct = EfficientViT(arch=arch).eval()
    direct.load_state_dict(convert_efficientvit(official), strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b, c in zip(model(x), direct(x), src(x)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
            torch.testing.assert_close(a, c, rtol=0, atol=0)


def test_wrong_variant_raises(ref_dir, tmp_path):
    path = str(tmp_path / 'efficientvit_b1.pt')
    torch.save({'state_dict': _zeros(ref_dir, 'b1', device='cpu')}, path)
    for arch in ('b0', 'b2', 'l1'):
        model = EfficientViT(
            arch=arch, init_cfg=dict(type='Pretrained', checkpoint=path))
        with pytest.raises(ValueError, match='another variant'):
            model.init_weights()


@needs_mmpretrain
@pytest.mark.parametrize('arch', ARCHS)
def test_classifier_config(ref_dir, scope, facts, arch):
    from mmengine.config import Config
    pytest.importorskip('mmpretrain.models')  # needs torchvision
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(CONFIG.format(arch))
    with scope('mmpretrain'), torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert type(model.backbone).__module__.startswith('mmedge.')
    assert model.backbone.arch_name == arch
    model.load_state_dict(
        convert_efficientvit(_zeros(ref_dir, arch), keep_head=True),
        strict=True)
    want = facts['families']['efficientvit']['variants'][arch]['params']
    assert sum(p.numel() for p in model.parameters()) == want['total']
