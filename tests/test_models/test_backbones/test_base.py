"""What the base class gives every family: deploy=True, input errors, exporter-safe attention,
output stride, the stage loop."""
import inspect
import math

import pytest
import torch
import torch.nn.functional as F

import backbone_contract as bc
from mmedge.models.backbones import (EdgeNeXt, EdgeViT, EfficientViT,
                                     EfficientViTPaper, EMO, RepNeXt)

CLASSES = (EdgeNeXt, EdgeViT, EMO, EfficientViT, EfficientViTPaper, RepNeXt)
# the smallest official variant of every layout (arch series) of every class
SMALLEST = [(EdgeNeXt, 'xx_small'), (EdgeNeXt, 'xx_small_bn_hs'),
            (EdgeViT, 'xxs'), (EMO, '1m'), (EfficientViT, 'b0'),
            (EfficientViT, 'l1'), (EfficientViTPaper, 'base'),
            (RepNeXt, 'm0')]


@pytest.mark.parametrize('cls,arch', SMALLEST,
                         ids=[f'{c.__name__}-{a}' for c, a in SMALLEST])
def test_fused_state_dict_loads_into_deploy_model(cls, arch):
    bc.check_deploy_build(cls, arch)
    # a classification-style build too (out norm / pooled outputs stay unfused)
    if cls is EdgeNeXt:
        bc.check_deploy_build(
            cls, arch, out_indices=(3, ), gap_before_final_norm=True)
    if cls is EdgeViT:
        bc.check_deploy_build(cls, arch, final_norm=True)


@pytest.mark.parametrize('cls', CLASSES, ids=lambda c: c.__name__)
def test_default_arch_is_the_smallest(cls):
    """Of the variants with the default's layout (EdgeNeXt LN vs BN, EfficientViT B vs L)."""
    name = inspect.signature(cls).parameters['arch'].default
    layout = {k: v for k, v in cls.arch_settings[name].items()
              if isinstance(v, bool)}
    with torch.device('meta'):  # counting only
        counts = {
            a: bc.count_params(cls(arch=a))
            for a, settings in cls.arch_settings.items()
            if all(settings[k] == v for k, v in layout.items())
        }
        default = bc.count_params(cls())
    assert default == min(counts.values()) == counts[name]


@pytest.mark.parametrize('cls', CLASSES, ids=lambda c: c.__name__)
def test_input_errors_name_the_expected_shape(cls):
    model = cls().eval()
    for bad in (torch.randn(3, 32, 32), torch.randn(1, 1, 3, 32, 32),
                torch.randn(32, 32)):
        with pytest.raises(ValueError, match=r'\(N, 3, H, W\)') as info:
            model(bad)
        assert cls.__name__ in str(info.value)
    with pytest.raises(ValueError, match=r'\(N, 3, H, W\).*permute'):
        model(torch.randn(1, 32, 32, 3))  # NHWC
    with pytest.raises(TypeError, match=r'\(N, 3, H, W\)'):
        model([torch.randn(1, 3, 32, 32)])
    one = cls(in_channels=1).eval()
    with torch.no_grad():
        assert len(one(torch.randn(1, 1, 32, 32))) == 4
    with pytest.raises(ValueError, match=r'\(N, 1, H, W\)'):
        one(torch.randn(1, 3, 32, 32))


@pytest.mark.parametrize('size', [(8, 8), (17, 17), (3, 5), (31, 40)])
def test_edgevit_below_32_pixels(size):
    """A map smaller than a patch is padded to one patch, as in EdgeNeXt."""
    model = EdgeViT(arch='xxs').eval()
    edgenext = EdgeNeXt(arch='xx_small').eval()
    x = torch.randn(1, 3, *size)
    with torch.no_grad():
        outs = model(x)
        ref = edgenext(x)
    assert [o.shape[-2:] for o in outs] == [o.shape[-2:] for o in ref]
    assert all(torch.isfinite(o).all() for o in outs)


def _mmdeploy_sdpa(query,
                   key,
                   value,
                   attn_mask=None,
                   dropout_p=0.,
                   scale=None,
                   is_causal=False):
    """mmdeploy 1.3.1's ONNX rewrite of SDPA: ``scale`` is used as a divisor."""
    scale = scale or query.size(-1)**0.5
    attn = torch.softmax(query @ key.transpose(-2, -1) / scale, dim=-1)
    return attn @ value


# every family whose attention calls F.scaled_dot_product_attention
SDPA_FAMILIES = [(EMO, dict(arch='1m', window_size=4)), (EdgeViT, dict())]


@pytest.mark.parametrize('cls,kwargs', SDPA_FAMILIES,
                         ids=[c.__name__ for c, _ in SDPA_FAMILIES])
def test_attention_unchanged_under_mmdeploy_rewrite(cls, kwargs, monkeypatch):
    torch.manual_seed(0)
    model = cls(**kwargs).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ref = model(x)
    calls = []

    def rewritten(*args, **kw):
        calls.append(kw)
        return _mmdeploy_sdpa(*args, **kw)

    monkeypatch.setattr(F, 'scaled_dot_product_attention', rewritten)
    with torch.no_grad():
        ours = model(x)
    assert calls, 'the family no longer calls F.scaled_dot_product_attention'
    assert all('scale' not in kw for kw in calls)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_mmdeploy_imitation_is_faithful():
    """The imitation reproduces the bug it stands for: ``scale=d**-0.5`` divides."""
    q, k, v = torch.randn(3, 1, 2, 5, 4).unbind(0)
    ref = F.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(_mmdeploy_sdpa(q, k, v), ref)
    assert not torch.allclose(_mmdeploy_sdpa(q, k, v, scale=4**-0.5), ref)


@pytest.mark.parametrize('cls', [c for c in CLASSES if c is not EdgeNeXt],
                         ids=lambda c: c.__name__)
def test_output_stride_refused_where_not_exact(cls):
    for bad in (16, 8):
        with pytest.raises(ValueError, match='output_stride') as info:
            cls(output_stride=bad)
        assert cls.__name__ in str(info.value)
        assert 'dilated' in str(info.value)
    assert cls().stage_strides == (4, 2, 2, 2)


def test_output_stride_plan():
    for os_, strides, dilations in [(32, (4, 2, 2, 2), (1, 1, 1, 1)),
                                    (16, (4, 2, 2, 1), (1, 1, 1, 2)),
                                    (8, (4, 2, 1, 1), (1, 1, 2, 4))]:
        model = EdgeNeXt(output_stride=os_)
        assert model.stage_strides == strides
        assert model.stage_dilations == dilations
    for bad in (4, 64, 15, '16', True):
        with pytest.raises(ValueError, match='output_stride'):
            EdgeNeXt(output_stride=bad)


class _Counter:
    """Counts the calls of every stem / stage block through forward hooks."""

    def __init__(self, model):
        self.calls = []
        self.handles = []
        blocks = [('stem', b) for b in model._stem_blocks()]
        for i in range(4):
            blocks += [(i, b) for b in model._stage_blocks(i)]
        for where, b in blocks:
            if isinstance(b, torch.nn.Module):
                self.handles.append(
                    b.register_forward_hook(
                        lambda m, i, o, w=where: self.calls.append(w)))

    def remove(self):
        for h in self.handles:
            h.remove()


@pytest.mark.parametrize('cls', CLASSES, ids=lambda c: c.__name__)
def test_loop_stops_after_the_last_requested_stage(cls):
    model = cls(out_indices=(1, 0)).eval()
    counter = _Counter(model)
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 64))
    counter.remove()
    assert set(counter.calls) == {'stem', 0, 1}
    # outputs in out_indices order
    assert [o.shape[1] for o in outs] == [model.out_channels[1],
                                          model.out_channels[0]]
    assert outs[0].shape[-1] == math.ceil(outs[1].shape[-1] / 2)


@pytest.mark.parametrize('cls', CLASSES, ids=lambda c: c.__name__)
def test_with_cp_checkpoints_every_block_including_the_stem(cls, monkeypatch):
    from mmedge.models.backbones import base
    model = cls(with_cp=True).train()
    ran = []
    real = base.checkpoint

    def spy(fn, *args, **kwargs):
        ran.append(fn)
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(base, 'checkpoint', spy)
    model(torch.randn(2, 3, 64, 64))
    blocks = list(model._stem_blocks())
    for i in range(4):
        blocks += model._stage_blocks(i)
    assert model._stem_blocks() and all(b in ran for b in blocks)
    ran.clear()
    with torch.no_grad():
        model(torch.randn(2, 3, 64, 64))
    assert not ran  # nothing to save memory for without autograd
