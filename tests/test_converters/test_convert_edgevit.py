import argparse
import os.path as osp
import re

import pytest
import torch

from backbone_contract import assert_close_to_reference, load_reference_keys
from conftest import needs_mmpretrain
from mmedge.converters import CONVERTERS
from mmedge.converters.edgevit import convert_edgevit
from mmedge.models import EdgeViT

ARCHS = ('xxs', 'xs', 's')
CONFIG = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', 'edgevit', 'cls_edgevit_{}_in1k.py')
TINY = dict(
    embed_dims=(8, 16, 24, 32),
    depths=(1, 2, 1, 1),
    num_heads=(1, 2, 3, 4),
    sr_ratios=(4, 2, 2, 1))

# mmedge key -> authors' key (the inverse of the converter), for round trips
# that need no reference data.
_TO_OFFICIAL = [
    (r'^patch_embeds\.(\d)\.', lambda m: f'patch_embed{int(m[1]) + 1}.'),
    (r'^stages\.(\d)\.', lambda m: f'blocks{int(m[1]) + 1}.'),
    (r'\.local_agg\.cpe\.', '.LocalAgg.pos_embed.'),
    (r'\.local_agg\.pw_conv1\.', '.LocalAgg.conv1.'),
    (r'\.local_agg\.dw_conv\.', '.LocalAgg.attn.'),
    (r'\.local_agg\.pw_conv2\.', '.LocalAgg.conv2.'),
    (r'\.local_agg\.', '.LocalAgg.'),
    (r'\.self_attn\.cpe\.', '.SelfAttn.pos_embed.'),
    (r'\.self_attn\.attn\.local_prop\.', '.SelfAttn.attn.LocalProp.'),
    (r'\.self_attn\.', '.SelfAttn.'),
]


def _to_official(sd):
    out = {}
    for k, v in sd.items():
        for pattern, repl in _TO_OFFICIAL:
            k = re.sub(pattern, repl, k)
        out[k] = v
    return out


def _zeros(ref_dir, arch):
    keys = load_reference_keys(ref_dir, f'edgevit_{arch}')
    return {
        k:
        torch.zeros(
            shape,
            dtype=torch.long
            if k.endswith('num_batches_tracked') else torch.float32)
        for k, shape in keys.items()
    }


def test_registered():
    assert CONVERTERS['edgevit'] is convert_edgevit
    assert EdgeViT.converter == 'edgevit'


@pytest.mark.parametrize('arch', ARCHS)
def test_official_keys_load_strict(ref_dir, arch):
    sd = _zeros(ref_dir, arch)
    backbone = convert_edgevit(sd)
    assert not any(k.startswith(('head.', 'norm.')) for k in backbone)
    EdgeViT(arch=arch).load_state_dict(backbone, strict=True)
    EdgeViT(
        arch=arch, deploy=False).load_state_dict(
            convert_edgevit({'model': sd}), strict=True)
    # the final BN belongs to the classifier: EdgeViT(final_norm=True)
    full = convert_edgevit(sd, keep_head=True)
    assert {k
            for k in full if not k.startswith('backbone.')
            } == {'head.fc.weight', 'head.fc.bias'}
    stripped = {
        k[len('backbone.'):]: v
        for k, v in full.items() if k.startswith('backbone.')
    }
    EdgeViT(arch=arch, final_norm=True).load_state_dict(stripped, strict=True)


@pytest.mark.parametrize('keep_head', [False, True])
def test_idempotent(keep_head):
    torch.manual_seed(0)
    model = EdgeViT(arch=TINY, final_norm=True)
    official = _to_official(model.state_dict())
    official['head.weight'] = torch.randn(10, 32)
    official['head.bias'] = torch.randn(10)
    assert any('LocalAgg' in k for k in official)
    once = convert_edgevit(official, keep_head=keep_head)
    twice = convert_edgevit(once, keep_head=keep_head)
    assert list(once) == list(twice)
    assert all(once[k] is twice[k] for k in once)
    # either mode also accepts the other mode's output
    assert set(convert_edgevit(convert_edgevit(official, True))) == set(
        convert_edgevit(official))
    if not keep_head:
        assert set(once) == set(model.state_dict()) - {
            k
            for k in model.state_dict() if k.startswith('norm.')
        }


def test_pretrained_official_checkpoint(tmp_path):
    torch.manual_seed(0)
    src = EdgeViT(arch=TINY).eval()
    for p in src.parameters():  # non-trivial values everywhere
        p.data.normal_(0, 0.2)
    path = str(tmp_path / 'edgevit_official.pth')
    torch.save(
        {
            'model': _to_official(src.state_dict()),
            'args': argparse.Namespace(model='edgevit_tiny'),
            'epoch': 299
        }, path)
    model = EdgeViT(
        arch=TINY, init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(model(x), src(x)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_wrong_variant_raises(ref_dir, tmp_path):
    path = str(tmp_path / 'edgevit_xs.pth')
    torch.save({
        'model': _zeros(ref_dir, 'xs'),
        'args': argparse.Namespace()
    }, path)
    for arch in ('xxs', 's'):
        model = EdgeViT(
            arch=arch, init_cfg=dict(type='Pretrained', checkpoint=path))
        with pytest.raises(ValueError, match=re.escape(f'arch={arch!r}')) \
                as info:
            model.init_weights()
        assert 'another variant' in str(info.value)


def _build_classifier(scope, arch):
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    pytest.importorskip('mmpretrain.models')  # needs torchvision
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(CONFIG.format(arch))
    with scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    assert type(model.backbone).__module__.startswith('mmedge.')
    return revert_sync_batchnorm(model)


@needs_mmpretrain
@pytest.mark.parametrize('arch', ARCHS)
def test_classifier_config(ref_dir, scope, facts, arch):
    model = _build_classifier(scope, arch)
    model.init_weights()
    model.load_state_dict(
        convert_edgevit(_zeros(ref_dir, arch), keep_head=True), strict=True)
    total = facts['families']['edgevit']['variants'][arch]['params']['total']
    assert sum(p.numel() for p in model.parameters()) == total


@needs_mmpretrain
def test_classifier_fixture_logits(ref_dir, scope):
    model = _build_classifier(scope, 'xxs')
    state = torch.load(
        osp.join(ref_dir, 'fixtures', 'edgevit_xxs_state.pth'),
        weights_only=True)
    model.load_state_dict(convert_edgevit(state, keep_head=True), strict=True)
    model.eval()
    for suffix in ('io', 'io_256x320'):
        io = torch.load(
            osp.join(ref_dir, 'fixtures', f'edgevit_xxs_{suffix}.pth'),
            weights_only=True)
        with torch.no_grad():
            logits = model(io['input'], mode='tensor')
        assert_close_to_reference(logits, io['logits'], f'logits {suffix}')
