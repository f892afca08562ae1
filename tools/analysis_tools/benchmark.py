"""Params, FLOPs (fvcore MACs), CPU latency, throughput and peak memory, as a table and JSON.

    # backbone variants (FAMILY:ARCH, FAMILY, or 'all' for every registered variant)
    python tools/analysis_tools/benchmark.py edgenext:small repnext:m3 --size 224 512 --deploy both
    python tools/analysis_tools/benchmark.py all --size 224 512 --out work_dirs/benchmark.json
    # a whole detector / segmentor / classifier config (tensor-mode forward)
    python tools/analysis_tools/benchmark.py --config configs/edgenext/ssdlite_edgenext_s_coco.py --size 320

    # GPU throughput at batch 256, fp32 / bf16 / fp16 autocast, eager and torch.compile
    python tools/analysis_tools/benchmark.py edgenext:xx_small --size 256 --device cuda \
        --throughput-batch 256 --amp none bf16 fp16 --compile both --deploy yes

Latency: median of --runs eval-mode forwards at batch 1 after --warmup, with --threads fixed
(on CUDA each timed forward ends with a synchronisation); the train and deploy forms of a model
are timed interleaved, forward by forward, so machine-load changes hit both alike. Throughput: images per second at
--throughput-batch (also reported as microseconds per image).
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402

from mmedge.utils.benchmark import (benchmark_model,  # noqa: E402
                                    build_model_from_config,
                                    measure_latency_interleaved)
from mmedge.utils.families import variants  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('models', nargs='*',
                   help="FAMILY:ARCH, FAMILY (all its variants) or 'all' (the default: "
                   'every variant of every registered family)')
    p.add_argument('--config', help='benchmark a full model config instead')
    p.add_argument('--size', nargs='+', default=['224'],
                   help='square sizes (224) or HxW (1024x2048)')
    p.add_argument('--runs', type=int, default=20)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--throughput-batch', type=int, default=16)
    p.add_argument('--deploy', choices=['no', 'yes', 'both'], default='both',
                   help='measure the training form, the switch_to_deploy() form, or both')
    p.add_argument('--no-flops', action='store_true')
    p.add_argument('--no-memory', action='store_true')
    p.add_argument('--device', default='cpu')
    p.add_argument('--amp', nargs='+', default=['none'], choices=['none', 'fp16', 'bf16'],
                   help='time the forwards under autocast with these dtypes')
    p.add_argument('--compile', choices=['no', 'yes', 'both'], default='no',
                   help='time torch.compile(model) (compilation happens in the warm-up)')
    p.add_argument('--out', help='write the results as JSON here')
    return p.parse_args(argv)


def _entries(args):
    """``(label, Family or None, arch)``: the config, or the variants named (every registered one
    for ``all``, every variant of a family for ``FAMILY``)."""
    if args.config:
        yield osp.splitext(osp.basename(args.config))[0], None, None
        return
    yield from variants(args.models or ['all'])


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(0)
    forms = {'no': [False], 'yes': [True], 'both': [False, True]}[args.deploy]
    compiles = {'no': [False], 'yes': [True], 'both': [False, True]}[args.compile]
    rows = []
    for name, fam, arch in _entries(args):
        models = []  # (form, model): train and / or deploy
        for deploy in forms:
            if args.config:
                model, inner = build_model_from_config(args.config)
                if deploy:
                    if not hasattr(inner.backbone, 'switch_to_deploy'):
                        continue
                    inner.backbone.switch_to_deploy()
            else:
                model = fam.build(arch)
                model.init_weights()
                if deploy:
                    model = copy.deepcopy(models[0][1]) if models else model
                    model.switch_to_deploy()  # the trained weights, fused
            models.append(('deploy' if deploy else 'train', model))
        for size in args.size:
            h, _, w = str(size).partition('x')
            hw = (int(h), int(w or h))
            for comp in compiles:
                timed = [torch.compile(m) if comp else m for _, m in models]
                for amp in args.amp:
                    group = []
                    for (form, model), t in zip(models, timed):
                        res = benchmark_model(
                            model, hw, threads=args.threads,
                            throughput_batch=args.throughput_batch, runs=args.runs,
                            warmup=args.warmup, device=args.device,
                            flops=not args.no_flops, memory=not args.no_memory,
                            amp=amp, compile=comp, latency=False, timed=t)
                        form += '' if amp == 'none' else f' {amp}'
                        form += ' compiled' if comp else ''
                        res.update(model=name, form=form)
                        group.append(res)
                    # batch-1 latency of the forms measured interleaved (same machine load)
                    x = torch.randn(1, 3, *hw, device=args.device)
                    lats = measure_latency_interleaved(
                        timed, x, runs=args.runs, warmup=args.warmup, amp=amp)
                    for res, lat in zip(group, lats):
                        res.update(latency_ms=lat['median'] * 1e3,
                                   latency_min_ms=lat['min'] * 1e3)
                        rows.append(res)
                        print(_fmt_row(res), flush=True)
    print()
    print(markdown_table(rows))
    if args.deploy == 'both' and not args.config:
        print()
        print(wide_table(rows))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(dict(torch=torch.__version__, rows=rows), f, indent=1)
        print(f'\nwritten to {args.out}')
    return rows


def _fmt_row(r):
    return (f"{r['model']:<26} {r['form']:<7} {r['size']:>8} {r['device']} "
            f"params {r['params'] / 1e6:7.3f}M  "
            + (f"{r['gmacs']:7.3f} GMACs  " if 'gmacs' in r else '')
            + f"lat {r['latency_ms']:8.2f} ms  "
            + (f"{r['throughput_img_s']:8.1f} img/s (b{r['throughput_batch']}, "
               f"{r['us_per_img']:.1f} us/img)  " if 'throughput_img_s' in r else '')
            + (f"mem {r['peak_mem_mb']:7.1f} MB" if 'peak_mem_mb' in r else ''))


def markdown_table(rows):
    head = ('| model | form | input | params (M) | GMACs (fvcore) | latency b1 (ms) '
            '| throughput (img/s) | peak mem (MB) |\n|---|---|---|---:|---:|---:|---:|---:|')
    lines = [head]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['form']} | {r['size']} | {r['params'] / 1e6:.3f} | "
            f"{r.get('gmacs', float('nan')):.3f} | {r['latency_ms']:.2f} | "
            f"{r.get('throughput_img_s', float('nan')):.1f} | "
            f"{r.get('peak_mem_mb', float('nan')):.1f} |")
    return '\n'.join(lines)


def wide_table(rows):
    """One row per variant (the README table): train / deploy side by side per input size.

    Throughput and peak memory are the deploy form's (what ships); params / MACs both forms.
    """
    by = {}
    for r in rows:
        if ' ' in r['form']:  # amp / compiled rows have their own long-table lines
            continue
        by.setdefault(r['model'], {})[(r['form'], r['size'])] = r
    sizes = sorted({r['size'] for r in rows}, key=lambda s: int(s.split('x')[0]))
    head = ['variant', 'params (M) train / deploy'] + [f'GMACs {s}' for s in sizes]
    head += [f'latency {s} train / deploy (ms)' for s in sizes]
    head += [f'throughput {s} (img/s, deploy)' for s in sizes[:1]]
    head += [f'peak mem {s} (MB, deploy)' for s in sizes[-1:]]
    lines = ['| ' + ' | '.join(head) + ' |', '|---|' + '---:|' * (len(head) - 1)]
    for model, d in by.items():
        t = {s: d.get(('train', s)) for s in sizes}
        q = {s: d.get(('deploy', s)) for s in sizes}
        if not all(t.values()) or not all(q.values()):
            continue
        cells = [model, f"{t[sizes[0]]['params'] / 1e6:.3f} / {q[sizes[0]]['params'] / 1e6:.3f}"]
        cells += [f"{t[s].get('gmacs', float('nan')):.3f}" for s in sizes]
        cells += [f"{t[s]['latency_ms']:.1f} / {q[s]['latency_ms']:.1f}" for s in sizes]
        cells += [f"{q[sizes[0]].get('throughput_img_s', float('nan')):.1f}"]
        cells += [f"{q[sizes[-1]].get('peak_mem_mb', float('nan')):.0f}"]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
