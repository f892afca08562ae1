"""tools/model_converters/reparameterize.py on a classifier, a detector and a bare backbone."""
import importlib.util
import os.path as osp

import pytest
import torch
from conftest import needs_mmdet, needs_mmpretrain
from mmengine.config import Config
from torch.nn.modules.batchnorm import _BatchNorm

from mmedge.utils.checkpoint import safe_load

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TINY = dict(channels=(8, 16, 32, 64), depths=(1, 1, 1, 1))


def _tool():
    path = osp.join(ROOT, 'tools', 'model_converters', 'reparameterize.py')
    spec = importlib.util.spec_from_file_location('reparameterize', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _randomize_bn(model):
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.1)


def _run(tmp_path, config_text, forward, deploy_options, fused_parts):
    """Train-form model -> checkpoint -> CLI -> deploy-form model; same outputs."""
    tool = _tool()
    config = tmp_path / 'model.py'
    config.write_text(config_text)
    model = tool.build_model(Config.fromfile(str(config)))
    model.init_weights()
    _randomize_bn(model)
    ckpt = str(tmp_path / 'epoch_1.pth')
    torch.save(
        {
            'state_dict': model.state_dict(),
            'meta': {
                'dataset_meta': {
                    'classes': ('a', 'b')
                }
            }
        }, ckpt)
    out = str(tmp_path / 'fused' / 'model_deploy.pth')
    tool.main([str(config), ckpt, out])

    saved = safe_load(out)  # tensor-only: loads with weights_only=True
    assert set(saved) == {'state_dict', 'meta'}
    assert all(
        isinstance(v, torch.Tensor) for v in saved['state_dict'].values())
    assert saved['meta']['fused'] == fused_parts
    assert saved['meta']['dataset_meta'] == {'classes': ('a', 'b')}
    assert len(saved['state_dict']) < len(model.state_dict())

    cfg = Config.fromfile(str(config))
    cfg.merge_from_dict(deploy_options)
    fused = tool.build_model(cfg)
    fused.load_state_dict(saved['state_dict'], strict=True)
    x = torch.randn(2, 3, 64, 96)
    model.eval()
    fused.eval()
    with torch.no_grad():
        before, after = forward(model, x), forward(fused, x)
    for a, b in zip(before, after):
        torch.testing.assert_close(
            b, a, rtol=1e-5, atol=1e-5 * a.abs().max().item())
    # an already fused checkpoint is refused with a clear message
    with pytest.raises(ValueError, match='already fused'):
        tool.main([str(config), out, str(tmp_path / 'twice.pth')])


def test_bare_backbone(tmp_path):
    text = (f'custom_imports = dict(imports=["mmedge.models"])\n'
            f'model = dict(type="mmedge.RepNeXt", arch={TINY!r})\n')
    _run(tmp_path, text, lambda m, x: m(x), {'model.deploy': True},
         ['<model>'])


@needs_mmpretrain
def test_classifier(tmp_path):
    pytest.importorskip('mmpretrain.models')  # needs torchvision
    base = osp.join(ROOT, 'configs', 'repnext', 'cls_repnext_m0_in1k.py')
    text = (f'_base_ = [{base!r}]\n'
            f'model = dict(\n'
            f'    backbone=dict(_delete_=True, type="mmedge.RepNeXt",\n'
            f'                  arch={TINY!r}, out_indices=(3, )),\n'
            f'    head=dict(num_classes=10, in_channels=64))\n')
    _run(tmp_path, text, lambda m, x: [m(x, mode='tensor')], {
        'model.backbone.deploy': True,
        'model.head.deploy': True
    }, ['backbone', 'head'])


@needs_mmdet
def test_detector(tmp_path):
    pytest.importorskip('mmdet.models')  # needs mmcv's compiled ops
    text = f"""
_base_ = 'mmdet::_base_/models/retinanet_r50_fpn.py'
default_scope = 'mmdet'
custom_imports = dict(imports=['mmedge.models'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmedge.RepNeXt',
        arch={TINY!r},
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels=16),
    bbox_head=dict(
        num_classes=3, in_channels=16, feat_channels=16, stacked_convs=1))
"""
    _run(tmp_path, text, lambda m, x: m.extract_feat(x),
         {'model.backbone.deploy': True}, ['backbone'])
