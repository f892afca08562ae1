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


def _bn_eval(*models):
    for model in models:
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                m.eval()


def check_with_cp(cls, arch, size=(64, 64)):
    """Same outputs and gradients (inputs and every parameter); autograd keeps fewer bytes."""
    torch.manual_seed(0)
    ref = build(cls, arch=arch).train()
    torch.manual_seed(0)
    cp = build(cls, arch=arch, with_cp=True).train()
    cp.load_state_dict(ref.state_dict())
    _bn_eval(ref, cp)  # deterministic forward
    x = torch.randn(2, 3, *size)
    x_ref, x_cp = x.clone().requires_grad_(), x.clone().requires_grad_()
    plain = saved_activation_bytes(ref, x_ref)
    checkpointed = saved_activation_bytes(cp, x_cp)
    assert checkpointed < plain, (checkpointed, plain)
    torch.testing.assert_close(x_cp.grad, x_ref.grad)
    grads = 0
    for (name, p), (_, q) in zip(ref.named_parameters(), cp.named_parameters()):
        assert (p.grad is None) == (q.grad is None), name
        if p.grad is not None:
            torch.testing.assert_close(q.grad, p.grad, msg=lambda m: f'{name}: {m}')
            grads += 1
    assert grads > 0
    x1 = torch.randn(1, 3, *size)
    outs_ref, outs_cp = ref(x1), cp(x1)  # training mode, with autograd
    assert len(outs_ref) == len(outs_cp) == 4
    for a, b in zip(outs_ref, outs_cp):
        torch.testing.assert_close(b, a)


def check_drop_path(cls, arch, size=(64, 64)):
    """Drop path changes training outputs only: train == eval at rate 0, != at rate > 0."""
    x = torch.randn(2, 3, *size)
    for rate in (0., 0.3):
        torch.manual_seed(0)
        model = build(cls, arch=arch, drop_path_rate=rate).train()
        _bn_eval(model)  # so that only drop path tells training from eval
        with torch.no_grad():  # zero / 1e-6 initial layer scales would hide a drop
            for p in model.parameters():
                if p.ndim == 1 and p.abs().max() < 1e-4:
                    p.fill_(1.)
        torch.manual_seed(1)
        train = model(x)
        sum(o.sum() for o in train).backward()
        model.eval()
        with torch.no_grad():
            a, b = model(x), model(x)
        for u, v in zip(a, b):
            torch.testing.assert_close(u, v)  # eval mode is deterministic
        if rate == 0:
            for t, e in zip(train, a):
                torch.testing.assert_close(t.detach(), e)
        else:
            # the last stage follows the most (and the most likely dropped) branches
            diff = (train[-1].detach() - a[-1]).abs().max()
            assert diff > 1e-3 * a[-1].abs().max(), \
                'drop_path_rate > 0 left the training output unchanged'
    with pytest.raises(ValueError):
        cls(arch=arch, drop_path_rate=1.5)


def check_deploy_build(cls, arch, size=(32, 32), **kwargs):
    """A state dict saved after ``switch_to_deploy()`` loads strictly into ``deploy=True``.

    The deploy-built model has the fused structure (same keys and shapes), gives the fused
    model's outputs, and ``switch_to_deploy()`` leaves it as it is.
    """
    torch.manual_seed(0)
    model = build(cls, arch=arch, **kwargs)
    _randomize_norms(model)
    model.eval().switch_to_deploy()
    fused = cls(arch=arch, deploy=True, **kwargs).eval()
    assert fused.deploy
    sd = model.state_dict()
    assert {k: v.shape for k, v in fused.state_dict().items()} == \
        {k: v.shape for k, v in sd.items()}
    fused.load_state_dict(sd, strict=True)
    before = set(fused.state_dict())
    assert fused.switch_to_deploy() is fused
    assert set(fused.state_dict()) == before
    x = torch.randn(1, 3, *size)
    with torch.no_grad():
        for a, b in zip(model(x), fused(x)):
            torch.testing.assert_close(b, a, rtol=0, atol=0)
    # the fused state dict given to the training form (a non-strict load, as mmengine's
    # load_from does, also under a detector's 'backbone.' prefix) is refused, naming the fix
    for prefix in ('', 'backbone.'):
        target = build(cls, arch=arch, **kwargs)
        holder = target if not prefix else torch.nn.ModuleDict({'backbone': target})
        with pytest.raises(ValueError, match=rf'fused form.*{prefix}deploy=True'):
            holder.load_state_dict({prefix + k: v for k, v in sd.items()}, strict=False)
    return fused


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
