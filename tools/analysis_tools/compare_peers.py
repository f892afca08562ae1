"""Latency of mmedge backbones next to the installable peers, side by side in one run.

    python tools/analysis_tools/compare_peers.py [--sizes 224 512] [--threads 1] [--runs 30]

The pairs are found, not listed: for every variant of every registered mmedge family
(:func:`mmedge.utils.families.families`), a peer is mmpretrain's backbone of the same registered
name with that variant in its ``arch_zoo`` (under our name or one of our ``arch_aliases``), and timm's
``{family}_{arch}`` model (``timm.is_model``); a variant without a peer is skipped.  Today that is
EdgeNeXt xx_small/x_small/small/base (mmpretrain ``EdgeNeXt``, timm ``edgenext_*``) and EfficientViT
b0..b3, l1..l3 (timm ``efficientvit_*``).  Same weight shapes, eval mode, batch 1, CPU, fixed
threads; every model returns its multi-scale features, the classifier heads are not run.  Runs are
interleaved (A, B, C, A, B, C, ...) so that load on the machine hits all alike; the median is
reported with the ratio peer / mmedge (> 1: mmedge is faster).
"""
import argparse
import json
import os
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402

from mmedge.utils.families import families  # noqa: E402


def _names(family, arch):
    """Our variant's name followed by its aliases (peers may use either)."""
    return [arch] + sorted(a for a, t in family.cls.arch_aliases.items() if t == arch)


def mmpretrain_peer(family, arch):
    """The mmpretrain arch name of our variant, or None (no mmpretrain / no such backbone)."""
    try:
        from mmpretrain.registry import MODELS
        import mmpretrain.models  # noqa: F401
    except Exception:  # noqa: BLE001  (absent or broken: no peer)
        return None
    cls = MODELS.get(family.type_name)
    zoo = getattr(cls, 'arch_zoo', None) or {}
    return next((n for n in _names(family, arch) if n in zoo), None)


def timm_peer(family, arch):
    """The timm model name of our variant, or None."""
    try:
        import timm
    except ImportError:
        return None
    return next((f'{family.name}_{n}' for n in _names(family, arch)
                 if timm.is_model(f'{family.name}_{n}')), None)


def _mmpretrain_model(type_name, arch):
    from mmpretrain.registry import MODELS
    return MODELS.get(type_name)(arch=arch, out_indices=(0, 1, 2, 3))


def _timm_features(name):
    import timm
    return timm.create_model(name, pretrained=False, features_only=True,
                             out_indices=(0, 1, 2, 3))


def _ours(family, arch, deploy=False):
    m = family.build(arch)
    m.init_weights()
    if deploy:
        m.switch_to_deploy()
    return m


def groups():
    """``(name, [(column, builder)])`` for every variant that has at least one peer."""
    for fam in families().values():
        for arch in fam.archs:
            mmp, tim = mmpretrain_peer(fam, arch), timm_peer(fam, arch)
            if mmp is None and tim is None:
                continue
            builders = [
                ('mmedge', lambda f=fam, a=arch: _ours(f, a)),
                ('mmedge-deploy', lambda f=fam, a=arch: _ours(f, a, True)),
            ]
            if mmp is not None:
                builders.append(('mmpretrain', lambda t=fam.type_name, a=mmp:
                                 _mmpretrain_model(t, a)))
            if tim is not None:
                builders.append(('timm', lambda n=tim: _timm_features(n)))
            yield f'{fam.name} {arch}', builders


@torch.no_grad()
def time_interleaved(models, x, runs, warmup):
    for m in models.values():
        m.eval()
        for _ in range(warmup):
            m(x)
    times = {k: [] for k in models}
    for _ in range(runs):
        for k, m in models.items():
            t0 = time.perf_counter()
            m(x)
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) * 1e3 for k, v in times.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[224, 512])
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--runs', type=int, default=30)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument('--only', nargs='*', help='substrings of group names')
    p.add_argument('--out', default='work_dirs/compare_peers.json')
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = []
    for name, builders in groups():
        if args.only and not any(s in name for s in args.only):
            continue
        models = {k: b() for k, b in builders}
        for size in args.sizes:
            x = torch.randn(1, 3, size, size)
            ms = time_interleaved(models, x, args.runs, args.warmup)
            row = dict(model=name, size=size, threads=args.threads,
                       latency_ms=ms,
                       ratio_vs_mmedge={k: v / ms['mmedge'] for k, v in ms.items()})
            rows.append(row)
            print(f'{name:<20} {size:>4}  ' + '  '.join(
                f'{k} {v:7.2f} ms ({v / ms["mmedge"]:.2f}x)' for k, v in ms.items()),
                flush=True)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(dict(torch=torch.__version__, rows=rows), f, indent=1)
    print(f'written to {args.out}')
    return rows


if __name__ == '__main__':
    main()
