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
from mmedge.models import EdgeViT

TINY = dict(
    embed_dims=(8, 16, 24, 32),
    depths=(1, 1, 1, 1),
    num_heads=(1, 2, 3, 4),
    sr_ratios=(4, 2, 2, 1))

# Backbone-only parameter counts (no final BN / classifier) of the official
# code's configurations, and the final BN + Linear(C4, 1000) on top.
PARAMS = {
    'xxs': (3_778_128, 4_067_704),
    'xs': (6_384_288, 6_770_056),
    's': (12_722_400, 13_108_168),
}


def test_arch_errors():
    check_arch_errors(EdgeViT, TINY)
    for key, value in [('embed_dims', (8, 16, 25, 32)), ('depths', (1, 1, 1)),
                       ('sr_ratios', (4, 2, 0, 1)),
                       ('num_heads', (1, 2, 3.0, 4)),
                       ('depths', (1, 1, -1, 1))]:
        with pytest.raises(ValueError, match='EdgeViT'):
            EdgeViT(arch=dict(TINY, **{key: value}))
    with pytest.raises(ValueError, match='local_kernel_size'):
        EdgeViT(arch=TINY, local_kernel_size=4)
    with pytest.raises(ValueError, match='attn_norm_cfg'):
        EdgeViT(arch=TINY, attn_norm_cfg=dict(type='BN'))
    with pytest.raises(ValueError, match='embed_norm_cfg'):
        EdgeViT(arch=TINY, embed_norm_cfg=dict(type='LN2d'))
    with pytest.raises(ValueError):
        EdgeViT(arch=TINY, drop_path_rate=1.)


def test_official_arch_settings_unchanged():
    before = {k: dict(v) for k, v in EdgeViT.arch_settings.items()}
    model = EdgeViT(arch='xs')
    model.arch['depths'] = (9, 9, 9, 9)
    assert EdgeViT.arch_settings == before
    assert EdgeViT.arch_settings['xs']['depths'] == (1, 1, 3, 1)
    assert EdgeViT.arch_settings['s']['depths'] == (1, 2, 5, 3)
    # stage 4 (r = 1) has no local-aggregation half
    assert all(b.local_agg is None for b in model.stages[3])
    assert all(b.local_agg is not None for b in model.stages[2])


def test_outputs_and_out_indices():
    check_out_indices(EdgeViT, TINY)
    outs = check_outputs(EdgeViT, TINY, size=(64, 96), final_norm=True)
    assert [o.shape[-2:] for o in outs] == [(16, 24), (8, 12), (4, 6), (2, 3)]


def test_odd_sizes():
    check_odd_sizes(EdgeViT, TINY, sizes=((67, 93), (33, 47), (200, 300)))
    # a real variant at 250x330, batch 1: patchify convs floor
    model = EdgeViT(arch='xxs').eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 250, 330))
    assert [tuple(o.shape) for o in outs] == [(1, 36, 62, 82), (1, 72, 31, 41),
                                              (1, 144, 15, 20),
                                              (1, 288, 7, 10)]
    assert all(torch.isfinite(o).all() and o.is_contiguous() for o in outs)


def _reference_gsa(attn, x, size):
    """The official computation (normalise-then-sample, ConvTranspose2d),
    on a map zero-padded to a multiple of r and cropped back."""
    b, h, w, c = x.shape
    r = attn.sr_ratio
    q, k, v = attn.qkv(x).reshape(b, -1, 3, attn.num_heads,
                                  c // attn.num_heads).permute(2, 0, 3, 1, 4)
    # official scale: head_dim ** -0.5
    a = (q @ k.transpose(-2, -1) * q.shape[-1]**-0.5).softmax(-1)
    y = (a @ v).transpose(1, 2).reshape(b, h, w, c).permute(0, 3, 1, 2)
    y = F.conv_transpose2d(
        y, attn.local_prop.weight, attn.local_prop.bias, stride=r, groups=c)
    y = y[:, :, :size[0], :size[1]].flatten(2).transpose(1, 2)
    return attn.proj(attn.norm(y))


@pytest.mark.parametrize('size', [(16, 20), (15, 21), (13, 13)])
def test_sparse_attention_any_size(size):
    """Delegates at ceil(H/r) x ceil(W/r) and a cropped local propagation
    equal the official ops on a zero-padded map (never sampled)."""
    torch.manual_seed(0)
    model = EdgeViT(arch=TINY).eval()
    half = model.stages[0][0].self_attn
    x = torch.randn(2, 8, *size)
    with torch.no_grad():
        ours = half(x)
        t = half.cpe(x).permute(0, 2, 3, 1)
        delegates = half.norm1(t)[:, ::4, ::4]  # normalise, then sample
        ref = t.flatten(1, 2) + _reference_gsa(half.attn, delegates, size)
        ref = ref + half.mlp(half.norm2(ref))
        ref = ref.transpose(1, 2).reshape(2, 8, *size)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


def test_frozen_stages():
    check_frozen_stages(EdgeViT, TINY)
    model = EdgeViT(arch=TINY, frozen_stages=4, final_norm=True)
    assert not any(p.requires_grad for p in model.norm.parameters())


def test_norm_eval():
    assert check_norm_eval(EdgeViT, TINY) == 6  # 2 per LocalAgg, 3 stages


def test_with_cp():
    check_with_cp(EdgeViT, TINY)


def test_drop_path():
    check_drop_path(EdgeViT, TINY)
    model = EdgeViT(arch=TINY, drop_path_rate=0.3)
    rates = [b.self_attn.drop_path.drop_prob for s in model.stages for b in s]
    assert rates == pytest.approx([0., 0.1, 0.2, 0.3])
    assert model.stages[1][0].local_agg.drop_path.drop_prob == \
        pytest.approx(0.1)


def test_init_weights():
    model = build(EdgeViT, arch='xxs')
    qkv = model.stages[2][0].self_attn.attn.qkv
    assert qkv.weight.std().item() == pytest.approx(0.02, rel=0.1)
    assert (qkv.bias == 0).all()
    ln = model.patch_embeds[1].norm
    assert (ln.weight == 1).all() and (ln.bias == 0).all()
    assert ln.eps == 1e-5
    assert model.stages[0][0].self_attn.norm1.eps == 1e-6
    assert model.stages[0][0].local_agg.norm1.eps == 1e-5


def test_deploy():
    model = check_deploy(EdgeViT, TINY, size=(67, 93), final_norm=True)
    assert not any(
        isinstance(m, nn.BatchNorm2d) for m in model.stages.modules())
    assert isinstance(model.norm, nn.BatchNorm2d)  # final norm stays
    # a deploy-built model takes the fused state dict
    fused = EdgeViT(arch=TINY, final_norm=True, deploy=True)
    fused.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(model(x), fused.eval()(x)):
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize('arch', ['xxs', 'xs', 's'])
def test_param_counts(arch):
    backbone, total = PARAMS[arch]
    model = EdgeViT(arch=arch)
    assert count_params(model) == backbone
    c4 = model.out_channels[-1]
    with_norm = EdgeViT(arch=arch, final_norm=True)
    assert count_params(with_norm) + c4 * 1000 + 1000 == total


@pytest.mark.parametrize('arch', ['xxs', 'xs', 's'])
def test_param_counts_facts(arch, facts):
    params = facts['families']['edgevit']['variants'][arch]['params']
    assert count_params(EdgeViT(arch=arch)) == params['backbone_only']


def _fixture(ref_dir, name):
    from mmedge.converters.edgevit import convert_edgevit
    state = torch.load(
        osp.join(ref_dir, 'fixtures', f'{name}_state.pth'),
        map_location='cpu',
        weights_only=True)
    return convert_edgevit(state)


@pytest.mark.parametrize('suffix', ['io', 'io_256x320'])
def test_fixture_features(ref_dir, suffix):
    io = torch.load(
        osp.join(ref_dir, 'fixtures', f'edgevit_xxs_{suffix}.pth'),
        map_location='cpu',
        weights_only=True)
    model = EdgeViT(arch='xxs')
    model.load_state_dict(_fixture(ref_dir, 'edgevit_xxs'), strict=True)
    model.eval()
    with torch.no_grad():
        feats = model(io['input'])
        for i, (ours, ref) in enumerate(zip(feats, io['feats'])):
            assert_close_to_reference(ours, ref, f'stage {i}')
        model.switch_to_deploy()
        for i, (ours, ref) in enumerate(zip(model(io['input']), io['feats'])):
            assert_close_to_reference(ours, ref, f'deploy stage {i}')
