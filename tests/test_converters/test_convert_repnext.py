import argparse
import os.path as osp
import re

import pytest
import torch
from backbone_contract import load_reference_keys
from conftest import needs_mmpretrain

from mmedge.converters import CONVERTERS
from mmedge.converters.repnext import convert_repnext
from mmedge.models import RepNeXt

ARCHS = ('m0', 'm1', 'm2', 'm3', 'm4', 'm5')
FORMS = ('train', 'deploy')
CONFIG = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', 'repnext', 'cls_repnext_{}_in1k.py')
TINY = dict(channels=(8, 16, 32, 64), depths=(1, 2, 1, 1))

# mmedge key -> authors' key (the inverse of the converter), for round trips
# that need no reference data.
_TO_OFFICIAL = [
    (r'^stem\.(\d)\.conv\.(weight|bias)$', r'stem.\1.\2', 'deploy'),
    (r'\.channel_mixer\.(\d)\.conv\.', r'.channel_mixer.\1.', 'deploy'),
    (r'^stem\.', 'stem.stem.', None),
]


def _to_official(sd, deploy):
    out = {}
    for k, v in sd.items():
        for pattern, repl, form in _TO_OFFICIAL:
            if form is None or deploy:
                k = re.sub(pattern, repl, k)
        out[k] = v
    return out


def _tiny(deploy, seed=0):
    torch.manual_seed(seed)
    model = RepNeXt(arch=TINY)
    for p in model.parameters():  # non-trivial values everywhere
        p.data.normal_(0, 0.2)
    for name, buf in model.named_buffers():
        if name.endswith('running_var'):
            buf.uniform_(0.5, 2.)
        elif name.endswith('running_mean'):
            buf.normal_(0, 0.1)
    if deploy:
        model.switch_to_deploy()
    return model.eval()


def _zeros(ref_dir, arch, form, device='meta'):
    name = f'repnext_{arch}' + ('_deploy' if form == 'deploy' else '')
    out = {}
    for k, shape in load_reference_keys(ref_dir, name).items():
        dtype = torch.long if k.endswith('num_batches_tracked') else \
            torch.float32
        out[k] = torch.zeros(shape, device=device, dtype=dtype)
    return out


def _official_head(deploy, channels=64, num_classes=10):
    if deploy:
        return {
            'head.weight': torch.randn(num_classes, channels),
            'head.bias': torch.randn(num_classes)
        }
    head = {}
    for h in ('head', 'head_dist'):
        for k in ('weight', 'bias', 'running_mean'):
            head[f'head.{h}.norm.{k}'] = torch.randn(channels)
        head[f'head.{h}.norm.running_var'] = torch.rand(channels) + 0.5
        head[f'head.{h}.norm.num_batches_tracked'] = torch.tensor(0)
        head[f'head.{h}.linear.weight'] = torch.randn(num_classes, channels)
        head[f'head.{h}.linear.bias'] = torch.randn(num_classes)
    return head


def test_registered():
    assert CONVERTERS['repnext'] is convert_repnext
    assert RepNeXt.converter == 'repnext'


@pytest.mark.parametrize('form', FORMS)
@pytest.mark.parametrize('arch', ARCHS)
def test_official_keys_load_strict(ref_dir, arch, form):
    sd = _zeros(ref_dir, arch, form)
    backbone = convert_repnext(sd)
    assert all(k.startswith(('stem.', 'stages.')) for k in backbone)
    with torch.device('meta'):
        model = RepNeXt(arch=arch, deploy=form == 'deploy')
    model.load_state_dict(backbone, strict=True)
    model.load_state_dict(convert_repnext({'model': sd}), strict=True)
    full = convert_repnext(sd, keep_head=True)
    head = {k for k in full if not k.startswith('backbone.')}
    if form == 'deploy':
        assert head == {'head.head.weight', 'head.head.bias'}
    else:
        assert head == {k for k in sd if k.startswith('head.')}
    model.load_state_dict(
        {
            k[len('backbone.'):]: v
            for k, v in full.items() if k.startswith('backbone.')
        },
        strict=True)


@pytest.mark.parametrize('deploy', [False, True])
@pytest.mark.parametrize('keep_head', [False, True])
def test_idempotent(keep_head, deploy):
    model = _tiny(deploy)
    official = _to_official(model.state_dict(), deploy)
    official.update(_official_head(deploy))
    assert any(k.startswith('stem.stem.') for k in official)
    once = convert_repnext(official, keep_head=keep_head)
    twice = convert_repnext(once, keep_head=keep_head)
    assert list(once) == list(twice)
    assert all(once[k] is twice[k] for k in once)
    # either mode also accepts the other mode's output
    assert set(convert_repnext(convert_repnext(official, True))) == set(
        convert_repnext(official))
    if not keep_head:
        assert set(once) == set(model.state_dict())


@pytest.mark.parametrize('deploy', [False, True])
def test_pretrained_official_checkpoint(tmp_path, deploy):
    src = _tiny(deploy)
    path = str(tmp_path / 'repnext_official.pth')
    official = _to_official(src.state_dict(), deploy)
    official.update(_official_head(deploy))
    torch.save(
        {
            'model': official,
            'args': argparse.Namespace(model='repnext_tiny'),
            'epoch': 299
        }, path)
    model = RepNeXt(
        arch=TINY,
        deploy=deploy,
        init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    model.eval()
    direct = RepNeXt(arch=TINY, deploy=deploy).eval()
    direct.load_state_dict(convert_repnext(official), strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b, c in zip(model(x), direct(x), src(x)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
            torch.testing.assert_close(a, c, rtol=0, atol=0)


def test_wrong_variant_raises(ref_dir, tmp_path):
    path = str(tmp_path / 'repnext_m1.pth')
    torch.save(
        {
            'model': _zeros(ref_dir, 'm1', 'train', device='cpu'),
            'args': argparse.Namespace()
        }, path)
    for arch, deploy in (('m0', False), ('m2', False), ('m1', True)):
        model = RepNeXt(
            arch=arch,
            deploy=deploy,
            init_cfg=dict(type='Pretrained', checkpoint=path))
        with pytest.raises(ValueError, match='another variant'):
            model.init_weights()


@needs_mmpretrain
@pytest.mark.parametrize('arch', ARCHS)
def test_classifier_config(ref_dir, scope, facts, arch):
    from mmengine.config import Config
    pytest.importorskip('mmpretrain.models')  # needs torchvision
    from mmpretrain.registry import MODELS
    want = facts['families']['repnext']['variants'][arch]
    for form in FORMS:
        config = CONFIG.format(arch + ('-deploy' if form == 'deploy' else ''))
        cfg = Config.fromfile(config)
        with scope('mmpretrain'), torch.device('meta'):
            model = MODELS.build(cfg.model)
        assert type(model.backbone).__module__.startswith('mmedge.')
        assert model.backbone.arch_name == arch
        assert model.backbone.deploy == model.head.deploy == (form == 'deploy')
        model.load_state_dict(
            convert_repnext(_zeros(ref_dir, arch, form), keep_head=True),
            strict=True)
        total = want['deploy']['params_total'] if form == 'deploy' else \
            want['params']['total']
        assert sum(p.numel() for p in model.parameters()) == total
