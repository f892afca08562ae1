import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from backbone_contract import (assert_close_to_reference, build,
                               check_arch_errors, check_deploy,
                               check_drop_path, check_frozen_stages,
                               check_norm_eval, check_odd_sizes,
                               check_out_indices, check_outputs, check_with_cp,
                               count_params)
from mmedge.converters import CONVERTERS
from mmedge.models import EMO
from mmedge.models.backbones.emo import IRMB

# depth 2 in the attention stages: block 0 down-samples, block 1 attends
TINY = dict(
    depths=(1, 1, 2, 2),
    channels=(8, 16, 16, 24),
    expand_ratios=(2.0, 2.0, 2.0, 1.5),
    head_dims=(8, 8, 8, 8))

# backbone-only parameter counts of the official models (stage0..stage4)
PARAMS = {'1m': 1_191_832, '2m': 2_176_072, '5m': 4_819_272, '6m': 5_846_856}
CHANNELS = {
    '1m': (32, 48, 80, 168),
    '2m': (32, 48, 120, 200),
    '5m': (48, 72, 160, 288),
    '6m': (48, 72, 160, 320)
}


def test_arch_errors():
    check_arch_errors(EMO, TINY)
    for key, value in [('depths', (1, 1, 2)), ('depths', (1, 0, 2, 2)),
                       ('channels', (8, 16, 20, 24)),
                       ('head_dims', (8, 8, 8, 7))]:
        with pytest.raises(ValueError, match='EMO'):
            EMO(arch=dict(TINY, **{key: value}))
    with pytest.raises(ValueError, match='kernel_sizes'):
        EMO(arch=TINY, kernel_sizes=(3, 3, 4, 5))
    with pytest.raises(ValueError, match='window_size'):
        EMO(arch=TINY, window_size=(7, 7, 7))
    with pytest.raises(ValueError, match='window_size'):
        EMO(arch=TINY, window_size=7.5)
    with pytest.raises(ValueError):
        EMO(arch=TINY, drop_path_rate=1.)
    with pytest.raises(ValueError, match='norm'):
        EMO(arch=TINY, norm_cfg=dict(type='NoSuchNorm'))
    with pytest.raises(ValueError, match='activation'):
        EMO(arch=TINY, attn_act_cfg=dict(type='NoSuchAct'))


def test_official_arch_settings_unchanged():
    model = EMO(arch='1M')  # case-insensitive
    model.arch['depths'] = (9, 9, 9, 9)
    assert EMO.arch_settings['1m']['depths'] == (2, 2, 8, 3)
    # block 0 of each stage down-samples with twice the ratio, no attention
    for i, (stage,
            ratio) in enumerate(zip(model.stages, (2.0, 2.5, 3.0, 3.5))):
        first = stage[0]
        assert first.conv_local.conv.stride == (2, 2)
        assert not first.has_skip and not first.use_attn
        assert first.v.out_channels == int(first.v.in_channels * ratio * 2)
        for block in stage[1:]:
            assert block.has_skip and block.use_attn == (i >= 2)
            assert block.v.out_channels == int(block.v.in_channels * ratio)
    assert [b.num_heads
            for b in (model.stages[2][1], model.stages[3][1])] == [4, 8]
    # norms / activations: BN + SiLU in stages 1-2, LN + GELU in 3-4
    assert isinstance(model.stages[1][1].norm, nn.BatchNorm2d)
    assert isinstance(model.stages[2][0].norm, nn.LayerNorm)
    assert isinstance(model.stages[3][1].act, nn.GELU)
    assert isinstance(model.stages[3][1].conv_local.act, nn.SiLU)
    assert model.stages[0][0].norm.eps == 1e-6
    assert model.stages[3][0].norm.eps == 1e-6


@pytest.mark.parametrize('arch', sorted(PARAMS))
def test_variants(arch):
    model = EMO(arch=arch).eval()
    assert count_params(model) == PARAMS[arch]
    assert model.out_channels == CHANNELS[arch]
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 96))
    assert [tuple(o.shape)
            for o in outs] == [(1, c, 64 // s, 96 // s)
                               for c, s in zip(CHANNELS[arch], (4, 8, 16, 32))]


def test_outputs_and_out_indices():
    check_out_indices(EMO, TINY)
    outs = check_outputs(EMO, TINY, size=(64, 96), window_size=2)
    assert [o.shape[-2:] for o in outs] == [(16, 24), (8, 12), (4, 6), (2, 3)]


def test_odd_sizes():
    # window 7 pads e.g. the 16x21 stage-3 map of 250x330 to 21x21 (3x3 groups)
    check_odd_sizes(EMO, TINY)
    for ws in (3, 0, (7, 7, 3, 2)):
        check_outputs(EMO, TINY, size=(67, 93), window_size=ws)
    # a real variant at 250x330, batch 1: stride-2 convs round up
    model = EMO(arch='1m').eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 250, 330))
    assert [tuple(o.shape) for o in outs] == [(1, 32, 63, 83), (1, 48, 32, 42),
                                              (1, 80, 16, 21), (1, 168, 8, 11)]
    assert all(torch.isfinite(o).all() and o.is_contiguous() for o in outs)


def _official_grid_attention(block, x):
    """The official EW-MHSA, written with explicit strided groups (no einops)."""
    B, C, H, W = x.shape
    ws = block.window_size
    x = F.pad(x, (0, (ws - W % ws) % ws, 0, (ws - H % ws) % ws))
    n1, n2 = x.shape[2] // ws, x.shape[3] // ws
    out = torch.empty_like(x)
    heads, d = block.num_heads, block.head_dim
    for a in range(n1):
        for b in range(n2):
            g = x[:, :, a::n1, b::n2]  # one group: a strided ws x ws grid
            q, k = block.qk(g).reshape(B, 2, heads, d, ws * ws).unbind(1)
            # official scale: head_dim ** -0.5
            attn = (q.transpose(-2, -1) @ k * d**-0.5).softmax(-1)
            v = g.reshape(B, heads, d, ws * ws).transpose(-2, -1)
            z = (attn @ v).transpose(-2, -1).reshape(B, C, ws, ws)
            out[:, :, a::n1, b::n2] = z
    return out[:, :, :H, :W]


@pytest.mark.parametrize('size', [(14, 14), (9, 13), (3, 5)])
def test_grid_window_attention(size):
    torch.manual_seed(0)
    block = IRMB(
        16,
        16,
        2.0,
        kernel_size=5,
        use_attn=True,
        head_dim=4,
        window_size=3,
        norm_cfg=dict(type='LN2d', eps=1e-6),
        act_cfg=dict(type='GELU')).eval()
    nn.init.normal_(block.qk.bias)  # padded tokens then show up as keys
    x = torch.randn(2, 16, *size)
    with torch.no_grad():
        torch.testing.assert_close(
            block._attention(x), _official_grid_attention(block, x))
        # the expansion follows the attention on the unexpanded input
        y = block(x)
        ref = block.act(
            block.v(_official_grid_attention(block, block.norm(x))))
        ref = block.proj(ref + block.conv_local(ref)) + x
        torch.testing.assert_close(y, ref)
        # window_size <= 0: one global group, the same as a window of the map size
        block.window_size = 0
        glob = block._attention(x)
        if size[0] == size[1]:
            block.window_size = size[0]
            torch.testing.assert_close(glob, block._attention(x))


def test_window_size_argument():
    model = EMO(arch=TINY, window_size=(7, 7, 10, 16))
    # the per-stage windows reach the attention blocks (stages 0-1 have none)
    assert [[b.window_size for b in s if b.use_attn]
            for s in model.stages] == [[], [], [10], [16]]
    assert model.stages[2][1].window_size == 10
    assert model.stages[3][1].window_size == 16
    assert EMO(arch=TINY, window_size=16).stages[2][1].window_size == 16


def test_frozen_norm_eval_init():
    check_frozen_stages(EMO, TINY)
    # the stem (stride-2 conv + SE block) is frozen by frozen_stages=0
    model = EMO(arch=TINY, frozen_stages=0)
    assert not any(p.requires_grad for p in model.stem.parameters())
    assert all(p.requires_grad for p in model.stages.parameters())
    assert check_norm_eval(EMO, TINY) > 0
    model = EMO(arch=TINY)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)):
            nn.init.constant_(m.weight, 3.)
    model.init_weights()
    norms = [
        m for m in model.modules()
        if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm))
    ]
    assert norms and all(
        (m.weight == 1).all() and (m.bias == 0).all() for m in norms)


def test_with_cp_and_drop_path():
    check_with_cp(EMO, TINY, size=(32, 32))
    check_drop_path(EMO, TINY, size=(32, 32))
    model = EMO(arch=TINY, drop_path_rate=0.3)
    rates = [
        b.drop_path.drop_prob for s in model.stages for b in s if b.has_skip
    ]
    assert rates == sorted(rates) and rates[-1] == pytest.approx(0.3)


def test_norm_cfg_reaches_every_block():
    model = EMO(
        arch=TINY,
        norm_cfg=dict(type='SyncBN', eps=1e-3),
        act_cfg=dict(type='ReLU'),
        attn_norm_cfg=dict(type='BN', eps=1e-4))
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    sync = [m for m in model.modules() if isinstance(m, nn.SyncBatchNorm)]
    assert all(m.eps == 1e-3 for m in sync) and len(sync) == 1 + 1 + 6 + 2
    assert [m.eps for m in bns] == [1e-4] * 4
    assert not any(isinstance(m, nn.SiLU) for m in model.modules())


def test_deploy():
    model = check_deploy(EMO, TINY, size=(64, 64), window_size=2)
    assert not any(
        isinstance(m, nn.modules.batchnorm._BatchNorm)
        for m in model.modules())
    # the LayerNorm pre-norms of the attention stages stay
    assert isinstance(model.stages[3][0].norm, nn.LayerNorm)
    check_deploy(EMO, TINY, size=(67, 93), window_size=(2, 2, 3, 3))


def test_fixtures(ref_dir):
    name = 'emo_1m'
    state = torch.load(
        osp.join(ref_dir, 'fixtures', f'{name}_state.pth'), map_location='cpu')
    model = EMO(arch='1m').eval()
    model.load_state_dict(CONVERTERS['emo'](state), strict=True)
    deployed = EMO(arch='1m').eval()
    deployed.load_state_dict(model.state_dict())
    deployed.switch_to_deploy()
    for suffix in ('_io.pth', '_io_256x320.pth'):
        io = torch.load(
            osp.join(ref_dir, 'fixtures', name + suffix), map_location='cpu')
        with torch.no_grad():
            outs = model(io['input'])
            stem = model.stem(io['input'])
            fused = deployed(io['input'])
        assert len(outs) == 4
        for i, (ours, ref) in enumerate(zip(outs, io['feats'])):
            assert_close_to_reference(ours, ref, f'{name}{suffix} stage {i}')
        assert_close_to_reference(stem, io['extra']['stage0'], 'stage0')
        for i, (ours, ref) in enumerate(zip(fused, io['feats'])):
            assert_close_to_reference(ours, ref, f'deploy stage {i}')


@pytest.mark.parametrize('default_scope', ['mmdet', 'mmseg', 'mmpretrain'])
def test_build_from_registry(scope, default_scope):
    from mmedge.registry import MODELS
    # builds resolve in the default scope's registry: the mmedge prefix finds ours everywhere
    with scope(default_scope):
        model = MODELS.build(
            dict(type='mmedge.EMO', arch=TINY, out_indices=(2, 3)))
    assert isinstance(model, EMO)
    assert build(EMO, arch=TINY).out_indices == (0, 1, 2, 3)
