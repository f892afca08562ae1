import math
import os.path as osp
import re

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from conftest import needs_mmseg

from backbone_contract import (assert_close_to_reference, build,
                               check_arch_errors, check_deploy,
                               check_drop_path, check_frozen_stages,
                               check_norm_eval, check_odd_sizes,
                               check_out_indices, check_outputs, check_with_cp,
                               count_params)
from mmedge.converters.edgenext import convert_edgenext
from mmedge.models import EdgeNeXt
from mmedge.models.backbones.edgenext import ConvEncoder, SDTAEncoder

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', 'edgenext')

# stage 2 has 22 channels: SDTA chunks of ceil(22 / 3) = 8, 8 and a narrower 6
TINY = dict(
    channels=(8, 16, 22, 32), depths=(1, 2, 2, 1), num_heads=(2, 2, 2, 4))
TINY_BN = dict(TINY, bn_hs=True)

# backbone-only parameter counts of the official models (no final norm / head)
PARAMS = {
    'xx_small': 1_157_880,
    'x_small': 2_143_420,
    'small': 5_281_224,
    'base': 17_925_124,
    'xx_small_bn_hs': 1_156_848,
    'x_small_bn_hs': 2_141_624,
    'small_bn_hs': 5_278_392
}
CHANNELS = {
    'xx_small': (24, 48, 88, 168),
    'x_small': (32, 64, 100, 192),
    'small': (48, 96, 160, 304),
    'base': (80, 160, 288, 584)
}


# ---------------------------------------------------------------- a reference
# A plain NCHW implementation of the official forward on the official keys,
# written from the spec; checked against the authors' fixture below.
def _ln_first(x, w, b):
    u = x.mean(1, keepdim=True)
    s = (x - u).pow(2).mean(1, keepdim=True)
    return w[:, None, None] * (x - u) / torch.sqrt(s + 1e-6) + b[:, None, None]


def _norm_map(sd, p, x, bn):
    if bn:
        return F.batch_norm(x, sd[p + 'running_mean'], sd[p + 'running_var'],
                            sd[p + 'weight'], sd[p + 'bias'], False, 0., 1e-5)
    return _ln_first(x, sd[p + 'weight'], sd[p + 'bias'])


def _fourier(sd, p, h, w):
    dim_t = 10000**(2 * (torch.arange(32) // 2) / 32)

    def enc(n):  # (n, 32): sin on even, cos on odd features
        pos = torch.arange(1, n + 1).float() / (n + 1e-6) * 2 * math.pi
        t = pos[:, None] / dim_t
        return torch.stack((t[:, 0::2].sin(), t[:, 1::2].cos()), -1).flatten(1)

    pos = torch.cat(
        (enc(h)[:, None].expand(h, w, 32), enc(w)[None].expand(h, w, 32)), -1)
    return F.conv2d(
        pos.permute(2, 0, 1)[None], sd[p + 'weight'], sd[p + 'bias'])


def _xca(sd, p, t, heads):
    b, n, c = t.shape
    qkv = F.linear(t, sd[p + 'qkv.weight'], sd[p + 'qkv.bias'])
    q, k, v = qkv.reshape(b, n, 3, heads, c // heads).permute(2, 0, 3, 4, 1)
    q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
    attn = (q @ k.transpose(-2, -1) * sd[p + 'temperature']).softmax(-1)
    out = (attn @ v).permute(0, 3, 1, 2).reshape(b, n, c)
    return F.linear(out, sd[p + 'proj.weight'], sd[p + 'proj.bias'])


def _mlp(sd, p, y, bn):
    y = F.linear(y, sd[p + 'pwconv1.weight'], sd[p + 'pwconv1.bias'])
    y = F.hardswish(y) if bn else F.gelu(y)
    y = F.linear(y, sd[p + 'pwconv2.weight'], sd[p + 'pwconv2.bias'])
    return (y * sd[p + 'gamma']).permute(0, 3, 1, 2)


def _reference(sd, x, heads, bn):
    feats = []
    for i in range(4):
        p = f'downsample_layers.{i}.'
        if i == 0:
            x = F.conv2d(x, sd[p + '0.weight'], sd.get(p + '0.bias'), 4)
            x = _norm_map(sd, p + '1.', x, bn)
        else:
            x = _norm_map(sd, p + '0.', x, bn)
            x = F.conv2d(x, sd[p + '1.weight'], sd.get(p + '1.bias'), 2)
        j = 0
        while f'stages.{i}.{j}.gamma' in sd:
            p = f'stages.{i}.{j}.'
            c = x.shape[1]
            if p + 'dwconv.weight' in sd:  # Conv. encoder
                k = sd[p + 'dwconv.weight'].shape[-1]
                y = F.conv2d(x, sd[p + 'dwconv.weight'],
                             sd.get(p + 'dwconv.bias'), 1, k // 2, 1, c)
                y = _norm_map(sd, p + 'norm.', y, bn).permute(0, 2, 3, 1)
                x = x + _mlp(sd, p, y, bn)
            else:  # SDTA encoder
                width = sd[p + 'convs.0.weight'].shape[0]
                chunks, outs, sp = torch.split(x, width, 1), [], None
                for n in range(len(chunks) - 1):
                    sp = chunks[n] if sp is None else sp + chunks[n]
                    sp = F.conv2d(sp, sd[p + f'convs.{n}.weight'],
                                  sd[p + f'convs.{n}.bias'], 1, 1, 1, width)
                    outs.append(sp)
                t = torch.cat(outs + [chunks[-1]], 1)
                if bn:
                    t = _norm_map(sd, p + 'norm_xca.', t, bn)
                _, _, h, w = t.shape
                if p + 'pos_embd.token_projection.weight' in sd:
                    t = t + _fourier(sd, p + 'pos_embd.token_projection.', h,
                                     w)
                t = t.flatten(2).transpose(1, 2)
                u = t if bn else F.layer_norm(t,
                                              (c, ), sd[p + 'norm_xca.weight'],
                                              sd[p + 'norm_xca.bias'], 1e-6)
                t = t + sd[p + 'gamma_xca'] * _xca(sd, p + 'xca.', u, heads[i])
                t = t.transpose(1, 2).reshape(x.shape)
                y = _norm_map(sd, p + 'norm.', t, bn).permute(0, 2, 3, 1)
                x = x + _mlp(sd, p, y, bn)
            j += 1
        feats.append(x)
    return feats


# inverse of the converter: mmedge keys -> the authors' keys
_TO_OFFICIAL = [(r'depthwise_conv', 'dwconv'), (r'pointwise_conv', 'pwconv'),
                (r'conv_modules', 'convs'),
                (r'pos_embed\.proj', 'pos_embd.token_projection'),
                (r'norm_csa', 'norm_xca'), (r'gamma_csa', 'gamma_xca'),
                (r'csa\.scale', 'xca.temperature'), (r'\.csa\.', '.xca.')]


def _to_official(sd):
    out = {}
    for k, v in sd.items():
        for pattern, repl in _TO_OFFICIAL:
            k = re.sub(pattern, repl, k)
        out[k] = v
    return out


def _randomize(model, seed=0):
    """Non-trivial values everywhere (norms, layer scales, temperature, biases)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                continue
            last = name.rsplit('.', 1)[-1]
            if last in ('running_var', 'scale', 'gamma',
                        'gamma_csa') or (last == 'weight' and t.ndim == 1):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif t.ndim == 1 or last == 'running_mean':
                t.copy_(torch.randn(t.shape, generator=g) * 0.1)
            else:
                t.copy_(torch.randn(t.shape, generator=g) * 0.15)
    return model


# ---------------------------------------------------------------- contract
def test_arch_errors():
    check_arch_errors(EdgeNeXt, TINY)
    for key, value in [('depths', (1, 2, 2)), ('depths', (1, 0, 2, 1)),
                       ('channels', (8, 16, 22, 30)),
                       ('num_heads', (2, 2, 4, 4)),
                       ('channels', (8, 16, 22, 5)),
                       ('channels', (8, 16, 22, 'a'))]:
        with pytest.raises(ValueError, match='EdgeNeXt'):
            EdgeNeXt(arch=dict(TINY, **{key: value}))
    with pytest.raises(ValueError, match='split'):  # 3 chunks of 2 > 5
        EdgeNeXt(
            arch=dict(TINY, channels=(8, 16, 22, 5), num_heads=(2, 2, 2, 1)))
    with pytest.raises(ValueError, match='LN or LN2d'):
        EdgeNeXt(arch=TINY, norm_cfg=dict(type='BN'))
    with pytest.raises(ValueError, match='NCHW'):
        EdgeNeXt(arch=TINY_BN, norm_cfg=dict(type='LN'))
    with pytest.raises(ValueError):
        EdgeNeXt(arch=TINY, norm_cfg=dict(type='NoSuchNorm'))
    with pytest.raises(ValueError):
        EdgeNeXt(arch=TINY, act_cfg=dict(type='NoSuchAct'))
    with pytest.raises(ValueError):
        EdgeNeXt(arch=TINY, drop_path_rate=1.)
    with pytest.raises(ValueError):
        EdgeNeXt(arch=TINY, layer_scale_init_value=-1.)


def test_arch_names_and_aliases():
    for alias, name in [('xxsmall', 'xx_small'), ('XSMALL', 'x_small'),
                        ('xxs', 'xx_small'), ('xs', 'x_small'), ('s', 'small'),
                        ('b', 'base'), ('xxs_bn_hs', 'xx_small_bn_hs')]:
        assert EdgeNeXt._parse_arch(alias) == EdgeNeXt.arch_settings[name]
    model = EdgeNeXt(arch='xx_small')
    model.arch['depths'] = (9, 9, 9, 9)
    assert EdgeNeXt.arch_settings['xx_small']['depths'] == (2, 2, 6, 2)
    # official layout: conv encoders + one SDTA ending stages 2-4
    kinds = [[type(b).__name__ for b in s] for s in model.stages]
    assert kinds[0] == ['ConvEncoder'] * 2
    assert kinds[2] == ['ConvEncoder'] * 5 + ['SDTAEncoder']
    assert [s[0].depthwise_conv.kernel_size[0]
            for s in model.stages] == [3, 5, 7, 9]
    sdta = [s[-1] for s in model.stages[1:]]
    assert [len(b.conv_modules) for b in sdta] == [1, 2, 3]
    assert [b.width for b in sdta] == [24, 30, 42]  # ceil(C / s)
    assert [b.pos_embed is not None for b in sdta] == [True, False, False]
    assert [b.csa.num_heads for b in sdta] == [4, 4, 4]
    assert EdgeNeXt(arch='small').stages[3][-1].csa.num_heads == 8
    assert all(m.eps == 1e-6 for m in model.modules()
               if isinstance(m, nn.LayerNorm))
    bn = EdgeNeXt(arch='xx_small_bn_hs')
    assert isinstance(bn.stages[0][0].act, nn.Hardswish)
    assert bn.stages[0][0].depthwise_conv.bias is None
    assert bn.downsample_layers[1][1].bias is None
    assert all(m.eps == 1e-5 for m in bn.modules()
               if isinstance(m, nn.BatchNorm2d))


@pytest.mark.parametrize('arch', sorted(PARAMS))
def test_variants(arch):
    model = EdgeNeXt(arch=arch).eval()
    assert count_params(model) == PARAMS[arch]
    channels = CHANNELS[arch.replace('_bn_hs', '')]
    assert model.out_channels == channels
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [
        (1, c, 64 // s, 96 // s) for c, s in zip(channels, (4, 8, 16, 32))
    ]


def test_outputs_and_out_indices():
    check_out_indices(EdgeNeXt, TINY)
    check_outputs(EdgeNeXt, TINY_BN, size=(64, 96))


def test_odd_sizes():
    check_odd_sizes(EdgeNeXt, TINY)
    check_odd_sizes(EdgeNeXt, TINY_BN, sizes=((67, 93), ))
    # below 32: 1-pixel maps are padded to 2 before a downsampling
    for size, shapes in [((20, 45), [(5, 11), (2, 5), (1, 2), (1, 1)]),
                         ((3, 64), [(1, 16), (1, 8), (1, 4), (1, 2)])]:
        outs = check_outputs(EdgeNeXt, TINY, size=size)
        assert [tuple(o.shape[-2:]) for o in outs] == shapes
    # a real variant at 250x330, batch 1: the patchify convs floor (official)
    model = EdgeNeXt(arch='xx_small').eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 250, 330))
    assert [tuple(o.shape) for o in outs] == [(1, 24, 62, 82), (1, 48, 31, 41),
                                              (1, 88, 15, 20), (1, 168, 7, 10)]
    assert all(torch.isfinite(o).all() and o.is_contiguous() for o in outs)


def test_frozen_norm_eval_init():
    check_frozen_stages(EdgeNeXt, TINY)
    check_frozen_stages(EdgeNeXt, TINY_BN)
    model = EdgeNeXt(arch=TINY, frozen_stages=0)
    assert not any(p.requires_grad
                   for p in model.downsample_layers[0].parameters())
    assert all(p.requires_grad for p in model.stages.parameters())
    assert check_norm_eval(EdgeNeXt, TINY_BN) > 0
    model = _randomize(EdgeNeXt(arch=TINY))
    model.init_weights()
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            assert (m.weight == 1).all() and (m.bias == 0).all()
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            assert m.bias is None or (m.bias == 0).all()
            assert m.weight.abs().max() < 0.15  # normal(0, 0.02)
    big = EdgeNeXt(arch='xx_small')
    big.init_weights()
    w = big.stages[2][0].pointwise_conv1.weight
    assert abs(w.std().item() - 0.02) < 0.003


def test_with_cp_and_drop_path():
    check_with_cp(EdgeNeXt, TINY, size=(64, 64))
    check_drop_path(EdgeNeXt, TINY)
    check_drop_path(EdgeNeXt, TINY_BN)
    model = EdgeNeXt(arch=TINY, drop_path_rate=0.3)
    rates = [
        b.drop_path.drop_prob if hasattr(b.drop_path, 'drop_prob') else 0.
        for s in model.stages for b in s
    ]
    assert rates == sorted(rates) and rates[0] == 0.
    assert rates[-1] == pytest.approx(0.3)


def test_layer_scale_and_norm_cfg():
    model = EdgeNeXt(arch=TINY, layer_scale_init_value=0.).eval()
    assert not any('gamma' in k for k in model.state_dict())
    check_outputs(EdgeNeXt, TINY, layer_scale_init_value=0.)
    model = EdgeNeXt(
        arch=TINY,
        norm_cfg=dict(type='LN', eps=1e-5),
        act_cfg=dict(type='ReLU'))
    lns = [m for m in model.modules() if isinstance(m, nn.LayerNorm)]
    # stem + 3 downsampling + 1 per conv encoder + 2 per SDTA
    assert len(lns) == 4 + 3 + 3 * 2 and all(m.eps == 1e-5 for m in lns)
    assert all(isinstance(b.act, nn.ReLU) for s in model.stages for b in s)
    model = EdgeNeXt(arch=TINY_BN, norm_cfg=dict(type='SyncBN', eps=1e-3))
    sync = [m for m in model.modules() if isinstance(m, nn.SyncBatchNorm)]
    assert len(sync) == 4 + 3 + 3 * 2 and all(m.eps == 1e-3 for m in sync)


@pytest.mark.parametrize('arch', [TINY, TINY_BN])
def test_gap_before_final_norm(arch):
    torch.manual_seed(0)
    model = _randomize(EdgeNeXt(arch=arch, out_indices=(1, 3))).eval()
    cls = EdgeNeXt(arch=arch, out_indices=(1, 3), gap_before_final_norm=True)
    missing, unexpected = cls.load_state_dict(model.state_dict(), strict=False)
    assert sorted(missing) == sorted(
        k for k in cls.state_dict()
        if k.startswith(('norm1.',
                         'norm3.')) and not k.endswith('num_batches_tracked'))
    assert not unexpected
    _randomize(cls, seed=1).eval()
    cls.load_state_dict(model.state_dict(), strict=False)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        feats, pooled = model(x), cls(x)
    for i, f, p in zip((1, 3), feats, pooled):
        norm = getattr(cls, f'norm{i}')
        ref = norm(f).mean((2, 3)) if arch.get('bn_hs') else F.layer_norm(
            f.mean((2, 3)), (f.shape[1], ), norm.weight, norm.bias, 1e-6)
        assert p.shape == (2, f.shape[1])
        torch.testing.assert_close(p, ref)
    assert any(m is cls.norm3 for m in cls._stage_modules(3))


# ---------------------------------------------------------------- equivalence
@pytest.mark.parametrize('arch', [TINY, TINY_BN, 'xx_small_bn_hs'])
@pytest.mark.parametrize('size', [(64, 64), (67, 93)])
def test_matches_reference(arch, size):
    """Both layouts against the plain official-order reference (random weights)."""
    model = _randomize(EdgeNeXt(arch=arch)).eval()
    official = _to_official(model.state_dict())
    assert convert_edgenext(official).keys() == model.state_dict().keys()
    x = torch.randn(2, 3, *size)
    heads = model.arch['num_heads']
    with torch.no_grad():
        ref = _reference(official, x, heads, model.bn_layout)
        for i, (a, b) in enumerate(zip(model(x), ref)):
            assert_close_to_reference(a, b, f'stage {i}')


def _fixture(ref_dir, name):
    path = osp.join(ref_dir, 'fixtures', name)
    return torch.load(path, weights_only=True)


@pytest.mark.parametrize(
    'io_name',
    ['edgenext_xx_small_io.pth', 'edgenext_xx_small_io_256x320.pth'])
def test_official_fixture(ref_dir, io_name):
    state = _fixture(ref_dir, 'edgenext_xx_small_state.pth')
    io = _fixture(ref_dir, io_name)
    model = EdgeNeXt(arch='xx_small').eval()
    model.load_state_dict(convert_edgenext(state), strict=True)
    cls = EdgeNeXt(
        arch='xx_small', out_indices=3, gap_before_final_norm=True).eval()
    full = convert_edgenext(state, keep_head=True)
    cls.load_state_dict(
        {
            k[len('backbone.'):]: v
            for k, v in full.items() if k.startswith('backbone.')
        },
        strict=True)
    with torch.no_grad():
        feats = model(io['input'])
        ref = _reference(state, io['input'], (4, 4, 4, 4), False)
        pooled = cls(io['input'])[0]
        model.switch_to_deploy()
        deployed = model(io['input'])
    for i in range(4):
        assert_close_to_reference(feats[i], io['feats'][i], f'stage {i}')
        assert_close_to_reference(ref[i], io['feats'][i], f'reference {i}')
        assert_close_to_reference(deployed[i], io['feats'][i], f'deploy {i}')
    assert_close_to_reference(pooled, io['extra']['final_norm'], 'final norm')


# ---------------------------------------------------------------- deploy
@pytest.mark.parametrize('arch', [TINY, TINY_BN])
def test_deploy(arch):
    check_deploy(EdgeNeXt, arch)
    model = _randomize(EdgeNeXt(arch=arch)).eval()
    x = torch.randn(1, 3, 67, 93)
    with torch.no_grad():
        before = model(x)
        model.switch_to_deploy()
        model.switch_to_deploy()
        after = model(x)
    for a, b in zip(before, after):
        assert_close_to_reference(b, a, 'deploy')
    sd = model.state_dict()
    assert not any(re.search(r'gamma', k) for k in sd)
    blocks = [b for s in model.stages for b in s]
    assert all(b.deploy for b in blocks)
    if arch.get('bn_hs'):
        # only the SDTA attention norm keeps a BN (its output feeds a residual)
        bns = [
            n for n, m in model.named_modules()
            if isinstance(m, nn.BatchNorm2d)
        ]
        assert bns and all(n.endswith('norm_csa') for n in bns)
    else:
        # the LayerNorms keep their affine part (free inside the fused LN kernel,
        # whose affine-free form is the slower one on CPU)
        plain = [
            n for n, m in model.named_modules()
            if isinstance(m, nn.LayerNorm) and m.weight is None
        ]
        assert not plain
        assert all(isinstance(b, (ConvEncoder, SDTAEncoder)) for b in blocks)


# ---------------------------------------------------------------- output stride
@pytest.mark.parametrize('arch', [TINY, TINY_BN])
@pytest.mark.parametrize('output_stride', [16, 8])
def test_dilated_output_stride(arch, output_stride):
    """Same weights; up to each dilated stage's SDTA the even pixels are the stride-32 maps."""
    ref = _randomize(EdgeNeXt(arch=arch)).eval()
    model = EdgeNeXt(arch=arch, output_stride=output_stride).eval()
    model.load_state_dict(ref.state_dict(), strict=True)
    assert count_params(model) == count_params(ref)
    seen = {}

    def grab(name):
        def hook(module, args):
            seen[name] = args[0]

        return hook

    dilated = [i for i in range(4) if model.stage_dilations[i] > 1]
    assert dilated == ([3] if output_stride == 16 else [2, 3])
    for name, net in (('ref', ref), ('ours', model)):
        for i in dilated:
            net.stages[i][-1].register_forward_pre_hook(grab(f'{name}{i}'))
    x = torch.randn(2, 3, 128, 96)
    with torch.no_grad():
        outs, ref_outs = model(x), ref(x)
    for i, (o, r) in enumerate(zip(outs, ref_outs)):
        factor = 32 // output_stride if i == 3 else (
            2 if output_stride == 8 and i == 2 else 1)
        assert o.shape[-2:] == (r.shape[-2] * factor, r.shape[-1] * factor)
        if factor == 1:
            torch.testing.assert_close(o, r)
    # the first dilated stage: the SDTA input (NHWC) on the even grid
    i = dilated[0]
    step = model.stage_dilations[i]
    assert_close_to_reference(seen[f'ours{i}'][:, ::step, ::step],
                              seen[f'ref{i}'], f'stage {i} before SDTA')
    # deploy: exact, the stride-1 BN (BN layout) stays
    check_deploy(EdgeNeXt, arch, output_stride=output_stride)


def test_dilated_form_errors_and_pos_embed_stage():
    with pytest.raises(ValueError, match='output_stride'):
        EdgeNeXt(arch=TINY, output_stride=4)
    model = EdgeNeXt(arch='small', output_stride=16)
    # the position encoding (stage 2) is never dilated; stage 4 is
    assert model.stages[1][-1].conv_modules[0].dilation == (1, 1)
    assert model.stages[3][0].depthwise_conv.dilation == (2, 2)
    assert model.stages[3][0].depthwise_conv.padding == (8, 8)
    assert model.stages[3][-1].conv_modules[0].dilation == (2, 2)
    assert model.downsample_layers[3][1].stride == (1, 1)


@needs_mmseg
def test_deeplabv3_config_macs_match_the_paper(scope):
    """The paper's DeepLabv3-EdgeNeXt-S (output stride 16): 8.7 G MAdds (Table 5), within 5 %."""
    pytest.importorskip('fvcore')
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmseg.registry import MODELS

    from mmedge.utils.benchmark import count_macs
    cfg = Config.fromfile(osp.join(CONFIGS, 'deeplabv3_edgenext_s_voc.py'))
    cfg.model.backbone.init_cfg = None
    assert cfg.model.backbone.output_stride == 16
    with scope('mmseg'):
        model = revert_sync_batchnorm(MODELS.build(cfg.model)).eval()

    class _Dense(nn.Module):
        def __init__(self, seg):
            super().__init__()
            self.seg = seg

        def forward(self, x):
            return self.seg.decode_head(self.seg.backbone(x))

    macs, counter = count_macs(_Dense(model), torch.randn(1, 3, 512, 512))
    assert counter == 'fvcore'
    assert abs(macs / 8.7e9 - 1) < 0.05, macs
