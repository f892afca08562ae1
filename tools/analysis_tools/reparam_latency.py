"""CPU latency of a backbone before and after ``switch_to_deploy()``, measured interleaved.

    python tools/analysis_tools/reparam_latency.py repnext:m0 repnext:m3 --size 224 512 --threads 1
    python tools/analysis_tools/reparam_latency.py repnext     # every RepNeXt variant

For each FAMILY:ARCH (FAMILY: all its variants; 'all': every registered variant) the training
form and its fused copy run alternately (batch 1, eval mode, ``torch.no_grad()``), so a change
of machine load affects both forms alike; the table gives the median (and min) of ``--runs``
forwards each after ``--warmup``. On a shared machine absolute numbers are noisy; the ratio is
the robust figure.
"""
import argparse
import copy
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402

from mmedge.utils.benchmark import measure_latency_interleaved  # noqa: E402
from mmedge.utils.families import variants  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('models', nargs='+', help="FAMILY:ARCH (e.g. repnext:m0), FAMILY or 'all'")
    p.add_argument('--size', type=int, nargs='+', default=[224])
    p.add_argument('--runs', type=int, default=15)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--threads', type=int, default=1)
    return p.parse_args(argv)


def measure(train, fused, size, runs, warmup):
    x = torch.randn(1, 3, size, size)
    lats = measure_latency_interleaved([train, fused], x, runs=runs, warmup=warmup)
    return {name: (lat['median'] * 1e3, lat['min'] * 1e3)
            for name, lat in zip(('train', 'deploy'), lats)}


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print('| model | input | train ms (min) | deploy ms (min) | speed-up |')
    print('|---|---|---:|---:|---:|')
    for item, family, arch in variants(args.models):
        train = family.build(arch).eval()
        fused = copy.deepcopy(train).switch_to_deploy().eval()
        for size in args.size:
            r = measure(train, fused, size, args.runs, args.warmup)
            (tm, tmin), (dm, dmin) = r['train'], r['deploy']
            print(
                f'| {item} | {size}x{size} | {tm:.1f} ({tmin:.1f}) | '
                f'{dm:.1f} ({dmin:.1f}) | x{tm / dm:.2f} |',
                flush=True)


if __name__ == '__main__':
    main()
