"""The backbone contract every mmedge family must meet, as reusable checks.

A family's test file calls these with its class and a tiny custom ``arch`` dict so they run in
seconds on CPU.  Each check asserts; none is a stub.
"""
import copy
import math

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

STRIDES = (4, 8, 16, 32)


def build(cls, **kwargs):
    model = cls(**kwargs)
    model.init_weights()
    return model


def check_arch_errors(cls, good_arch):
    """Unknown names list the valid ones; a dict with missing / extra keys says which."""
    with pytest.raises(ValueError) as info:
        cls(arch='no-such-arch')
    for name in cls.arch_settings:
        assert name in str(info.value)
    key = sorted(good_arch)[0]
    bad = {k: v for k, v in good_arch.items() if k != key}
    with pytest.raises(ValueError, match=key):
        cls(arch=bad)
    bad = dict(copy.deepcopy(good_arch), unexpected_key=1)
    with pytest.raises(ValueError, match='unexpected_key'):
        cls(arch=bad)
    with pytest.raises(TypeError):
        cls(arch=3)


def check_outputs(cls, arch, size=(64, 64), **kwargs):
    """All four stages at strides 4..32 with ``out_channels`` channels; tuple output."""
    model = build(cls, arch=arch, **kwargs).eval()
    x = torch.randn(1, 3, *size)
    with torch.no_grad():
        outs = model(x)
    assert isinstance(outs, tuple) and len(outs) == 4
    assert len(model.out_channels) == 4
    for out, c, s in zip(outs, model.out_channels, STRIDES):
        assert out.shape[:2] == (1, c)
        for dim, full in zip(out.shape[2:], size):
            # floor or ceil of size / stride, depending on the family
            assert math.floor(full / s) <= dim <= math.ceil(full / s), \
                (tuple(out.shape), size, s)
        assert out.is_contiguous()
        assert torch.isfinite(out).all()
    return outs


def check_out_indices(cls, arch, size=(64, 64)):
    full = check_outputs(cls, arch, size)
    del full
    idx = [3, -3]
    model = build(cls, arch=arch, out_indices=idx).eval()
    assert idx == [3, -3]  # the caller's list is left unchanged
    assert model.out_indices == (3, 1)
    with torch.no_grad():
        outs = model(torch.randn(1, 3, *size))
    assert len(outs) == 2
    assert outs[0].shape[1] == model.out_channels[3]
    assert outs[1].shape[1] == model.out_channels[1]
    model = build(cls, arch=arch, out_indices=2)
    assert model.out_indices == (2, )
    for bad in (4, -5, (0, 4), (), 'ab', (1, 1), (0.5, )):
        with pytest.raises(ValueError):
            cls(arch=arch, out_indices=bad)


def check_odd_sizes(cls, arch, sizes=((67, 93), (250, 330), (33, 47))):
    for size in sizes:
        check_outputs(cls, arch, size)


def _trainable(modules):
    return [p.requires_grad for m in modules for p in m.parameters()]


def check_frozen_stages(cls, arch):
    for bad in (-2, 5, 1.5, True):
        with pytest.raises(ValueError):
            cls(arch=arch, frozen_stages=bad)
    for k in range(-1, 5):
        model = build(cls, arch=arch, frozen_stages=k)
        for phase in ('init', 'train'):
            if phase == 'train':
                model.train()
            frozen = list(model._stem_modules()) if k >= 0 else []
            for i in range(max(k, 0)):
                frozen += list(model._stage_modules(i))
            live = [model._stage_modules(i) for i in range(max(k, 0), 4)]
            assert frozen or k < 0
            assert not any(_trainable(frozen)), (k, phase)
            if phase == 'train':
                assert all(not m.training for m in frozen for m in m.modules())
            for mods in live:
                assert all(_trainable(mods)), (k, phase)
                if phase == 'train':
                    assert all(m.training for m in mods)


def check_norm_eval(cls, arch):
    model = build(cls, arch=arch, norm_eval=True).train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert all(not m.training for m in bns)
    model = build(cls, arch=arch, norm_eval=False).train()
    assert all(m.training for m in model.modules()
               if isinstance(m, _BatchNorm))
    return len(bns)


def saved_activation_bytes(model, x):
    """Bytes autograd keeps for the backward pass of ``sum(model(x))``."""
    total = [0]

    def pack(t):
        total[0] += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        outs = model(x)
    sum(o.sum() for o in outs).backward()
    return total[0]


def check_with_cp(cls, arch, size=(64, 64)):
    """Same output and gradients; autograd keeps fewer bytes for the backward pass."""
    torch.manual_seed(0)
    ref = build(cls, arch=arch).train()
    torch.manual_seed(0)
    cp = build(cls, arch=arch, with_cp=True).train()
    cp.load_state_dict(ref.state_dict())
    for m in list(ref.modules()) + list(cp.modules()):  # deterministic forward
        if isinstance(m, _BatchNorm):
            m.eval()
    x = torch.randn(2, 3, *size, requires_grad=True)
    plain = saved_activation_bytes(ref, x)
    checkpointed = saved_activation_bytes(cp, x.detach().requires_grad_())
    assert checkpointed < plain, (checkpointed, plain)
    x1 = torch.randn(1, 3, *size)
    with torch.no_grad():
        for a, b in zip(ref(x1), cp(x1)):
            torch.testing.assert_close(a, b)
    g_ref = [p.grad for p in ref.parameters() if p.grad is not None]
    g_cp = [p.grad for p in cp.parameters() if p.grad is not None]
    assert len(g_ref) == len(g_cp) > 0


def check_drop_path(cls, arch, size=(64, 64)):
    model = build(cls, arch=arch, drop_path_rate=0.3).train()
    x = torch.randn(2, 3, *size)
    outs = model(x)
    sum(o.sum() for o in outs).backward()
    model.eval()
    with torch.no_grad():
        a, b = model(x), model(x)
    for u, v in zip(a, b):
        torch.testing.assert_close(u, v)  # eval mode is deterministic
    with pytest.raises(ValueError):
        cls(arch=arch, drop_path_rate=1.5)


def check_deploy(cls, arch, size=(64, 64), rtol=1e-5, **kwargs):
    """``switch_to_deploy()`` keeps outputs (relative 1e-5 of the abs-max) and is idempotent."""
    model = build(cls, arch=arch, **kwargs)
    _randomize_norms(model)
    model.eval()
    x = torch.randn(1, 3, *size)
    with torch.no_grad():
        before = model(x)
        model.switch_to_deploy()
        model.switch_to_deploy()
        after = model(x)
    for a, b in zip(before, after):
        tol = rtol * a.abs().max().item()
        torch.testing.assert_close(b, a, rtol=rtol, atol=tol)
    return model


def _randomize_norms(model, seed=0):
    """Non-trivial BN statistics, so that a wrong fusion shows."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(n, generator=g) * 0.1)


def count_params(module):
    return sum(p.numel() for p in module.parameters())


def assert_close_to_reference(ours, ref, what=''):
    """The fixture tolerance: rtol 1e-4, atol 1e-5 x the reference's abs-max."""
    assert ours.shape == ref.shape, (what, ours.shape, ref.shape)
    atol = 1e-5 * ref.abs().max().item()
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=atol, msg=lambda m: f'{what}: {m}')


def load_reference_keys(ref_dir, name):
    """``{key: shape}`` of an official state dict from ``keys/<name>.txt``."""
    import os.path as osp
    out = {}
    with open(osp.join(ref_dir, 'keys', f'{name}.txt')) as f:
        for line in f:
            line = line.rstrip('\n')
            if not line:
                continue
            key, shape = line.split('\t')[:2]
            shape = shape.strip('[]()')
            dims = [int(s) for s in shape.replace(' ', '').split(',') if s]
            out[key] = tuple(dims)
    return out
