"""EfficientViT-Base of the first paper: contract, attention maths, the paper's MACs."""
import importlib.util
import os.path as osp

import pytest
import torch
import torch.nn as nn
from conftest import needs_mmpretrain

import backbone_contract as bc
from mmedge.models.backbones import EfficientViTPaper
from mmedge.models.backbones.efficientvit_paper import (ReLULinearAttention,
                                                        relu_linear_attention)

TINY = dict(
    widths=(8, 8, 16, 16, 32),
    depths=(1, 1, 1, 1),
    num_heads=(0, 0, 2, 2),
    head_dim=8,
    expand_ratio=2,
    kernel_size=3)
CONFIGS = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', 'efficientvit')
# parameters achieved (the paper's 7.9M / 10.9M include an unknown head; MACs are the target)
PARAMS = {'base': 2_303_416, 'base_w1.2': 3_239_856}
CHANNELS = {'base': (24, 48, 96, 192), 'base_w1.2': (32, 56, 112, 232)}


def test_arch_errors_and_alias():
    bc.check_arch_errors(EfficientViTPaper, TINY)
    assert EfficientViTPaper(arch='base-w1.2').arch == \
        EfficientViTPaper.arch_settings['base_w1.2']
    with pytest.raises(ValueError, match='4 depths'):
        EfficientViTPaper(arch=dict(TINY, depths=(1, 1, 1)))
    with pytest.raises(ValueError, match='LayerNorm'):
        EfficientViTPaper(arch=TINY, attn_norm_cfg=dict(type='BN'))


def test_contract():
    bc.check_out_indices(EfficientViTPaper, TINY)
    bc.check_odd_sizes(EfficientViTPaper, TINY)
    bc.check_frozen_stages(EfficientViTPaper, TINY)
    assert bc.check_norm_eval(EfficientViTPaper, TINY) > 0
    bc.check_with_cp(EfficientViTPaper, TINY)
    bc.check_drop_path(EfficientViTPaper, TINY)


def test_deploy_folds_every_bn():
    model = bc.check_deploy(EfficientViTPaper, TINY)
    assert not any(
        isinstance(m, nn.modules.batchnorm._BatchNorm)
        for m in model.modules())


@pytest.mark.parametrize('arch', sorted(PARAMS))
def test_params_channels_shapes(arch):
    model = EfficientViTPaper(arch=arch).eval()
    assert bc.count_params(model) == PARAMS[arch]
    assert tuple(model.out_channels) == CHANNELS[arch]
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 250, 330))
    # every stride-2 step rounds up (the avg-pool shortcut uses ceil_mode)
    assert [tuple(o.shape[1:]) for o in outs] == [
        (c, h, w)
        for c, (h,
                w) in zip(CHANNELS[arch], [(63, 83), (32, 42), (16, 21), (8,
                                                                          11)])
    ]


def test_linear_attention_equals_explicit_form():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 2, 200, 3, 16).unbind(0)  # (B, N, heads, d)
    ours = relu_linear_attention(q, k, v, eps=0.)
    # Eq. (3): the N x N similarity map, row-normalised, times V
    sim = torch.einsum('bnhd,bmhd->bhnm', q.relu(), k.relu())
    ref = torch.einsum('bhnm,bmhd->bnhd', sim / sim.sum(-1, keepdim=True), v)
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-5)


def test_linear_attention_non_positive_query_is_finite():
    q, k, v = torch.randn(3, 1, 10, 2, 16).unbind(0)
    q[:, 3] = -q[:, 3].abs()  # a query with no positive entry
    out = relu_linear_attention(q, k, v)
    assert torch.isfinite(out).all()
    assert torch.all(out[:, 3] == 0)


def test_attention_fp32_under_autocast(monkeypatch):
    from mmedge.models.backbones import efficientvit_paper
    seen = []

    def spy(q, k, v, eps):
        seen.append((q.dtype, torch.is_autocast_enabled('cpu')))
        return relu_linear_attention(q, k, v, eps)

    monkeypatch.setattr(efficientvit_paper, 'relu_linear_attention', spy)
    torch.manual_seed(0)
    attn = ReLULinearAttention(32, num_heads=4).eval()
    x = torch.randn(1, 9, 11, 32)
    with torch.no_grad():
        ref = attn(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            low = attn(x)
    # the attention itself ran in float32 with autocast off
    assert seen == [(torch.float32, False)] * 2
    assert low.dtype == torch.bfloat16 and torch.isfinite(low).all()
    torch.testing.assert_close(low.float(), ref, rtol=0.1, atol=0.1)


def _macs(model, *size):
    """MACs of conv / linear / matmul / einsum: the counting of the spec's calibration.

    fvcore when importable (its norm / pooling handles are left out), else
    ``torch.utils.flop_counter`` (FLOPs / 2 of conv and matrix products).
    """
    x = torch.randn(1, 3, *size)
    if importlib.util.find_spec('fvcore') is not None:
        from fvcore.nn import FlopCountAnalysis
        flops = FlopCountAnalysis(model, x)
        flops.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        by_op = flops.by_operator()
        return sum(v for k, v in by_op.items()
                   if k in ('conv', 'linear', 'matmul', 'einsum', 'bmm',
                            'addmm'))
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() / 2


class _Classifier(nn.Module):
    """Backbone + the head of the config, without mmpretrain's data plumbing."""

    def __init__(self, cls_model):
        super().__init__()
        self.backbone = cls_model.backbone
        self.head = cls_model.head

    def forward(self, x):
        return self.head(self.backbone(x))


@needs_mmpretrain
@pytest.mark.parametrize('arch,size,target', [
    ('base', 224, 406e6),
    ('base', 192, 304e6),
    ('base-w1.2', 224, 584e6),
])
def test_paper_macs(arch, size, target, scope):
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(
        osp.join(CONFIGS, f'cls_efficientvit_{arch}_in1k.py'))
    with scope('mmpretrain'):
        model = MODELS.build(cfg.model).eval()
    assert type(model.backbone).__module__.startswith('mmedge.')
    with torch.no_grad():
        macs = _macs(_Classifier(model), size, size)
    assert abs(macs / target - 1) < 0.05, (arch, size, macs)


def test_backbone_macs_scale_linearly():
    model = EfficientViTPaper(arch='base', out_indices=(1, 2, 3)).eval()
    with torch.no_grad():
        small = _macs(model, 416, 416)
        large = _macs(model, 608, 608)
    assert abs(small / 1.354e9 - 1) < 0.05  # spec: 1.35G at r416 (reading C)
    assert abs(large / small - (608 / 416)**2) < 0.02  # linear in tokens
