"""EfficientViT B-series (MIT HAN Lab): contract, exactness against the official code, head."""
import os.path as osp

import pytest
import torch
from conftest import needs_mmpretrain

import backbone_contract as bc
from mmedge.converters import CONVERTERS
from mmedge.models.backbones import EfficientViT
from mmedge.models.backbones.efficientvit import LiteMLA

# stage 2 runs the linear attention at 64x64 (16 tokens > head_dim), stage 3 the quadratic one
TINY = dict(
    widths=(8, 16, 16, 32, 32),
    depths=(1, 1, 1, 1, 1),
    head_dim=8,
    expand_ratio=2,
    large=False)
TINY_L = dict(TINY, large=True)
PARAMS = dict(
    b0=682_608,
    b1=4_643_936,
    b2=14_977_008,
    b3=38_997_440,
    l1=38_037_280,
    l2=49_090_208,
    l3=193_998_144)
CHANNELS = dict(
    b0=(16, 32, 64, 128),
    b1=(32, 64, 128, 256),
    b2=(48, 96, 192, 384),
    b3=(64, 128, 256, 512),
    l1=(64, 128, 256, 512),
    l2=(64, 128, 256, 512),
    l3=(128, 256, 512, 1024))
CONFIGS = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', 'efficientvit')


def test_arch_errors():
    bc.check_arch_errors(EfficientViT, TINY)
    with pytest.raises(ValueError, match='5 entries'):
        EfficientViT(arch=dict(TINY, depths=(1, 1, 1, 1)))


@pytest.mark.parametrize('arch', [TINY, TINY_L])
def test_outputs_and_out_indices(arch):
    bc.check_out_indices(EfficientViT, arch)


@pytest.mark.parametrize('arch', [TINY, TINY_L])
def test_odd_sizes(arch):
    bc.check_odd_sizes(EfficientViT, arch)


def test_real_variant_odd_size():
    model = EfficientViT(arch='b0').eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 250, 330))
    # the official shapes (facts.json forward_250x330): every stride-2 step rounds up
    assert [tuple(o.shape[2:]) for o in outs] == [(63, 83), (32, 42), (16, 21),
                                                  (8, 11)]


@pytest.mark.parametrize('arch', [TINY, TINY_L])
def test_frozen_norm_eval_cp_drop_path(arch):
    bc.check_frozen_stages(EfficientViT, arch)
    assert bc.check_norm_eval(EfficientViT, arch) > 0
    bc.check_with_cp(EfficientViT, arch)
    bc.check_drop_path(EfficientViT, arch)


@pytest.mark.parametrize('arch', [TINY, TINY_L])
def test_deploy_folds_every_bn(arch):
    model = bc.check_deploy(EfficientViT, arch)
    assert not any(
        isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
        for m in model.modules())


@pytest.mark.parametrize('arch', sorted(PARAMS))
def test_param_counts_and_channels(arch):
    with torch.device('meta'):
        model = EfficientViT(arch=arch)
    assert bc.count_params(model) == PARAMS[arch]
    assert tuple(model.out_channels) == CHANNELS[arch]


def test_official_norm_and_act_per_series():
    norms = {
        m.eps
        for m in EfficientViT(arch=TINY_L).modules()
        if isinstance(m, torch.nn.BatchNorm2d)
    }
    assert norms == {1e-7}
    gelus = [
        m for m in EfficientViT(arch=TINY_L).modules()
        if isinstance(m, torch.nn.GELU)
    ]
    assert gelus and all(m.approximate == 'tanh' for m in gelus)
    model = EfficientViT(arch=TINY)
    assert {
        m.eps
        for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)
    } == {1e-5}
    assert any(isinstance(m, torch.nn.Hardswish) for m in model.modules())
    model = EfficientViT(
        arch=TINY,
        norm_cfg=dict(type='BN', eps=1e-3),
        act_cfg=dict(type='ReLU'))
    assert {
        m.eps
        for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)
    } == {1e-3}
    assert not any(isinstance(m, torch.nn.Hardswish) for m in model.modules())


def test_param_counts_match_facts(facts):
    variants = facts['families']['efficientvit']['variants']
    for arch, n in PARAMS.items():
        assert variants[arch]['params']['backbone_only'] == n


def test_official_init():
    model = bc.build(EfficientViT, arch=TINY_L)
    assert torch.all(model.stem[1].conv2.norm.weight == 0)
    assert torch.all(model.stages[0][1].point_conv.norm.weight == 0)
    model = bc.build(EfficientViT, arch=TINY)
    # official "last gamma": identity residual branches start at zero
    assert torch.all(model.stages[2][1].context_module.proj.norm.weight == 0)
    assert torch.all(
        model.stages[2][1].local_module.point_conv.norm.weight == 0)
    assert torch.all(model.stem[1].point_conv.norm.weight == 0)
    assert torch.all(model.stages[0][0].point_conv.norm.weight == 1)
    w = model.stages[2][1].context_module.qkv.weight
    assert 0.01 < w.std() < 0.03  # trunc-normal(std=0.02)


def _reference_attention(qkv, d, eps):
    """The explicit N x N form: row-normalised relu(K)^T relu(Q), then V."""
    B, _, H, W = qkv.shape
    q, k, v = qkv.reshape(B, -1, 3 * d, H * W).split(d, dim=2)
    att = k.relu().transpose(-1, -2) @ q.relu()  # (B, heads, N, N)
    out = v @ (att / (att.sum(2, keepdim=True) + eps))
    return out.reshape(B, -1, H, W)


@pytest.mark.parametrize('size', [(6, 7), (2, 3)])
def test_attention_equals_explicit_form(size):
    # 42 tokens take the linear path, 6 (<= head_dim) the official quadratic one
    torch.manual_seed(0)
    attn = LiteMLA(32, head_dim=8).eval()
    qkv = torch.randn(2, 2 * attn.qkv.out_channels, *size)
    torch.testing.assert_close(
        attn._attention(qkv),
        _reference_attention(qkv, 8, attn.eps),
        rtol=1e-4,
        atol=1e-5)


def test_attention_fp32_under_autocast():
    torch.manual_seed(0)
    attn = LiteMLA(32, head_dim=8).eval()
    x = torch.randn(1, 32, 9, 9)
    seen = []
    inner = attn._attention

    def spy(qkv):
        seen.append((qkv.dtype, torch.is_autocast_enabled('cpu')))
        return inner(qkv)

    attn._attention = spy
    with torch.no_grad():
        ref = attn(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            low = attn(x)
    # the attention itself ran in float32 with autocast off
    assert seen == [(torch.float32, False)] * 2
    assert low.dtype == torch.bfloat16 and torch.isfinite(low).all()
    torch.testing.assert_close(low.float(), ref, rtol=0.1, atol=0.1)


def _load_fixture(ref_dir, name):
    fixtures = osp.join(ref_dir, 'fixtures')
    state = torch.load(
        osp.join(fixtures, f'{name}_state.pth'),
        map_location='cpu',
        weights_only=True)
    ios = [
        torch.load(
            osp.join(fixtures, f), map_location='cpu', weights_only=True)
        for f in (f'{name}_io.pth', f'{name}_io_256x320.pth')
        if osp.isfile(osp.join(fixtures, f))
    ]
    return state, ios


def test_matches_official_fixture(ref_dir):
    state, ios = _load_fixture(ref_dir, 'efficientvit_b0')
    model = EfficientViT(arch='b0').eval()
    model.load_state_dict(CONVERTERS['efficientvit'](state), strict=True)
    assert len(ios) == 2
    for io in ios:
        with torch.no_grad():
            outs = model(io['input'])
        for i, (ours, ref) in enumerate(zip(outs, io['feats'])):
            bc.assert_close_to_reference(ours, ref, f'stage {i}')
    # the deploy form (BN folded) stays within the same tolerance
    model.switch_to_deploy()
    with torch.no_grad():
        outs = model(ios[0]['input'])
    for i, (ours, ref) in enumerate(zip(outs, ios[0]['feats'])):
        bc.assert_close_to_reference(ours, ref, f'deploy stage {i}')


def _build_classifier(arch, scope):
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(
        osp.join(CONFIGS, f'cls_efficientvit_{arch}_in1k.py'))
    with scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    return revert_sync_batchnorm(model).eval()


@needs_mmpretrain
def test_classifier_reproduces_official_logits(ref_dir, scope):
    state, ios = _load_fixture(ref_dir, 'efficientvit_b0')
    model = _build_classifier('b0', scope)
    assert type(model.backbone).__module__.startswith('mmedge.')
    assert type(model.head).__module__.startswith('mmedge.')
    model.load_state_dict(
        CONVERTERS['efficientvit'](state, keep_head=True), strict=True)
    for io in ios:
        with torch.no_grad():
            logits = model(io['input'], mode='tensor')
        bc.assert_close_to_reference(logits, io['logits'], 'logits')


def test_real_large_variant_runs():
    model = EfficientViT(arch='l1', out_indices=(1, 3)).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 67, 93))
    assert [tuple(o.shape) for o in outs] == [(1, 128, 9, 12), (1, 512, 3, 3)]
