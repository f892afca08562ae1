"""Latency of mmedge backbones next to the installable peers, side by side in one run.

    python tools/analysis_tools/compare_peers.py [--sizes 224 512] [--threads 1] [--runs 30]

Pairs (same weights shape, eval mode, batch 1, CPU, fixed threads; every model returns its
multi-scale features, the classifier heads are not run):
  EdgeNeXt xx_small/x_small/small/base: mmedge vs mmpretrain ``EdgeNeXt`` vs timm ``edgenext_*``
  EfficientViT b0..b3: mmedge (training and deploy form) vs timm ``efficientvit_b*``
Runs are interleaved (A, B, C, A, B, C, ...) so that load on the machine hits all alike; the
median is reported with the ratio peer / mmedge (> 1: mmedge is faster).
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

from mmedge.utils.benchmark import build_backbone  # noqa: E402

EDGENEXT = {'xx_small': 'xxsmall', 'x_small': 'xsmall', 'small': 'small',
            'base': 'base'}
EFFVIT = ['b0', 'b1', 'b2', 'b3']


def _mmpretrain_edgenext(arch):
    from mmpretrain.models import EdgeNeXt
    return EdgeNeXt(arch=arch, out_indices=(0, 1, 2, 3))


def _timm_features(name):
    import timm
    return timm.create_model(name, pretrained=False, features_only=True,
                             out_indices=(0, 1, 2, 3))


def _ours(family, arch, deploy=False):
    m = build_backbone(family, arch)
    m.init_weights()
    if deploy:
        m.switch_to_deploy()
    return m


def groups():
    for arch, mmp in EDGENEXT.items():
        yield f'edgenext {arch}', [
            ('mmedge', lambda a=arch: _ours('edgenext', a)),
            ('mmedge-deploy', lambda a=arch: _ours('edgenext', a, True)),
            ('mmpretrain', lambda a=mmp: _mmpretrain_edgenext(a)),
            ('timm', lambda a=arch: _timm_features(f'edgenext_{a}')),
        ]
    for arch in EFFVIT:
        yield f'efficientvit {arch}', [
            ('mmedge', lambda a=arch: _ours('efficientvit', a)),
            ('mmedge-deploy', lambda a=arch: _ours('efficientvit', a, True)),
            ('timm', lambda a=arch: _timm_features(f'efficientvit_{a}')),
        ]


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
