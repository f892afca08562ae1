"""RepNeXt: the backbone contract, re-parameterisation, official numbers and fixtures."""
import os.path as osp

import pytest
import torch
from backbone_contract import (assert_close_to_reference, check_arch_errors,
                               check_deploy, check_drop_path,
                               check_frozen_stages, check_norm_eval,
                               check_odd_sizes, check_out_indices,
                               check_outputs, check_with_cp, count_params)
from conftest import needs_mmpretrain
from torch.nn.modules.batchnorm import _BatchNorm

from mmedge.converters import CONVERTERS
from mmedge.models import RepNeXt

TINY = dict(channels=(8, 16, 32, 64), depths=(1, 1, 2, 1))
VARIANTS = ('m0', 'm1', 'm2', 'm3', 'm4', 'm5')
CONFIGS = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', 'repnext')


def test_arch_errors():
    check_arch_errors(RepNeXt, TINY)
    for bad in (dict(channels=(8, 16, 32, 62), depths=(1, 1, 1, 1)),
                dict(channels=(8, 16, 24, 48), depths=(1, 1, 1, 1)),
                dict(channels=(8, 16, 32), depths=(1, 1, 1)),
                dict(channels=(8, 16, 32, 64), depths=(1, -1, 1, 1))):
        with pytest.raises(ValueError):
            RepNeXt(arch=bad)
    with pytest.raises(ValueError, match='mlp_ratio'):
        RepNeXt(arch=TINY, mlp_ratio=0)
    with pytest.raises(ValueError, match='BatchNorm'):
        RepNeXt(arch=TINY, deploy=True, norm_cfg=dict(type='LN2d'))
    assert RepNeXt(arch='M0').arch_name == 'M0'


def test_outputs_and_out_indices():
    check_out_indices(RepNeXt, TINY)
    model = RepNeXt(arch='m0')
    assert model.out_channels == (40, 80, 160, 320)


def test_odd_sizes():
    check_odd_sizes(RepNeXt, TINY)
    check_outputs(RepNeXt, TINY, size=(32, 32), deploy=True)
    # a real variant: every stride-2 step rounds up
    model = RepNeXt(arch='m0').eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 250, 330))
    assert [tuple(o.shape[2:]) for o in outs] == [(63, 83), (32, 42), (16, 21),
                                                  (8, 11)]


def test_frozen_norm_eval_cp_drop_path():
    check_frozen_stages(RepNeXt, TINY)
    # stem, 4 stand-alone norms + 2 per MLP per block / downsample
    assert check_norm_eval(RepNeXt, TINY) == 2 + 3 * 5 + 3 * 3
    check_with_cp(RepNeXt, TINY)
    check_drop_path(RepNeXt, TINY)


def test_init_weights():
    model = RepNeXt(arch=TINY)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.weight.data.fill_(3.)
    model.init_weights()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert all((m.weight == 1).all() and (m.bias == 0).all() for m in bns)


@pytest.mark.parametrize('size', [(64, 64), (67, 93)])
def test_deploy(size):
    model = check_deploy(RepNeXt, TINY, size=size)
    # every multi-branch conv and every ConvNorm BN is gone; 5 stand-alone BNs stay
    names = [n for n, _ in model.named_modules()]
    assert not any(n.endswith(('conv_3_3', 'conv_7_7')) for n in names)
    assert sum(isinstance(m, _BatchNorm) for m in model.modules()) == 8
    # a model built with deploy=True has the fused layout and loads its weights
    fused = RepNeXt(arch=TINY, deploy=True).eval()
    fused.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(1, 3, *size)
    with torch.no_grad():
        for a, b in zip(model(x), fused(x)):
            torch.testing.assert_close(a, b)
    assert fused.switch_to_deploy() is fused


def test_param_counts(facts):
    for arch in VARIANTS:
        want = facts['families']['repnext']['variants'][arch]
        with torch.device('meta'):  # counting only: skip the weight init
            model = RepNeXt(arch=arch)
            assert count_params(model) == want['params']['backbone_only']
            model.switch_to_deploy()
            assert count_params(model) == \
                want['deploy']['params_excl_classifier'], arch
            fused = RepNeXt(arch=arch, deploy=True)
        assert count_params(fused) == count_params(model)


def _fixture(ref_dir, name):
    return torch.load(osp.join(ref_dir, 'fixtures', name), map_location='cpu')


@pytest.mark.parametrize('io_name', ['repnext_m0_io', 'repnext_m0_io_256x320'])
def test_fixture_features(ref_dir, io_name):
    convert = CONVERTERS['repnext']
    model = RepNeXt(arch='m0').eval()
    model.load_state_dict(
        convert(_fixture(ref_dir, 'repnext_m0_state.pth')), strict=True)
    fused = RepNeXt(arch='m0', deploy=True).eval()
    official_fused = convert(_fixture(ref_dir, 'repnext_m0_deploy_state.pth'))
    fused.load_state_dict(official_fused, strict=True)
    io = _fixture(ref_dir, f'{io_name}.pth')
    io_fused = _fixture(ref_dir, f'{io_name}_deploy.pth')
    with torch.no_grad():
        outs = model(io['input'])
        outs_fused = fused(io_fused['input'])
        for i, (ours, ref) in enumerate(zip(outs, io['feats'])):
            assert_close_to_reference(ours, ref, f'stage {i}')
        for i, (ours, ref) in enumerate(zip(outs_fused, io_fused['feats'])):
            assert_close_to_reference(ours, ref, f'fused stage {i}')
        # our fusion gives the authors' fused weights
        model.switch_to_deploy()
        ours = model.state_dict()
        assert set(ours) == set(official_fused)
        for k, v in ours.items():
            torch.testing.assert_close(
                v, official_fused[k], rtol=1e-5, atol=1e-6, msg=k)


def _build_classifier(scope, config, **override):
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    pytest.importorskip('mmpretrain.models')  # needs torchvision
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(osp.join(CONFIGS, config))
    cfg.model.update(override)
    with scope('mmpretrain'):
        model = revert_sync_batchnorm(MODELS.build(cfg.model))
    assert type(model.backbone).__module__.startswith('mmedge.')
    return model.eval()


@needs_mmpretrain
def test_classifier_head_deploy(scope):
    tiny = dict(
        backbone=dict(type='mmedge.RepNeXt', arch=TINY, out_indices=(3, )),
        head=dict(
            type='mmedge.RepNeXtClsHead', num_classes=10, in_channels=64))
    model = _build_classifier(scope, 'cls_repnext_m0_in1k.py', **tiny)
    model.init_weights()
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 2.)
            m.bias.data.normal_(0, 0.1)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        before = model(x, mode='tensor')
        model.backbone.switch_to_deploy()
        model.head.switch_to_deploy()
        model.head.switch_to_deploy()
        after = model(x, mode='tensor')
    torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-5)
    assert sorted(k for k in model.state_dict() if k.startswith('head.')) \
        == ['head.head.bias', 'head.head.weight']
    # the deploy config layout loads the fused classifier strictly
    tiny['backbone']['deploy'] = True
    tiny['head']['deploy'] = True
    fused = _build_classifier(scope, 'cls_repnext_m0-deploy_in1k.py', **tiny)
    fused.load_state_dict(model.state_dict(), strict=True)


@needs_mmpretrain
@pytest.mark.parametrize('deploy', [False, True])
def test_classifier_fixture_logits(ref_dir, scope, deploy):
    suffix = '_deploy' if deploy else ''
    config = 'cls_repnext_m0-deploy_in1k.py' if deploy else \
        'cls_repnext_m0_in1k.py'
    model = _build_classifier(scope, config)
    state = _fixture(ref_dir, f'repnext_m0{suffix}_state.pth')
    model.load_state_dict(
        CONVERTERS['repnext'](state, keep_head=True), strict=True)
    io = _fixture(ref_dir, f'repnext_m0_io{suffix}.pth')
    with torch.no_grad():
        logits = model(io['input'], mode='tensor')
    assert_close_to_reference(logits, io['logits'], 'logits')
