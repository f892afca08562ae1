"""PyTorch eager vs ONNX Runtime fp32 / int8 on CPU: every backbone variant, and end to end.

    # backbones (deploy form), 1 thread, batch 1, eager / ort fp32 / ort int8 interleaved
    python tools/deployment/benchmark_onnx.py all --size 224 512 --runs 10 --warmup 3
    python tools/deployment/benchmark_onnx.py edgenext:xx_small emo:1m --size 224
    # end to end (loading + test pipeline + data_preprocessor + model + post-processing),
    # several configs interleaved image by image in one run
    python tools/deployment/benchmark_onnx.py --e2e configs/toy/toy_ssdlite_edgenext_s_coco.py \\
        configs/toy/toy_ssdlite_mobilenetv2_coco.py [--checkpoints A.pth B.pth]

Backbones are exported after ``switch_to_deploy()`` and quantized statically (QDQ, per-channel
int8 weights, uint8 activations, convolutions and matrix products) on random calibration
inputs: the int8 column is a speed measurement; the metric change of int8 is measured on the
toy sets by ``tools/deployment/quantize_onnx.py --evaluate``. Prints a markdown table; --out
writes JSON.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from mmedge.utils.ort_benchmark import backbone_forms, end_to_end  # noqa: E402


def _entries(models):
    """(family, arch) for FAMILY:ARCH, FAMILY or 'all' (mmedge.utils.families: the one list)."""
    from mmedge.utils.families import variants
    try:
        for _, fam, arch in variants(models or ['all']):
            yield fam.name, arch
    except (KeyError, ValueError) as err:
        raise SystemExit(f'unknown model: {err} (give FAMILY:ARCH, FAMILY or all)')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('models', nargs='*', help="FAMILY:ARCH, FAMILY or 'all'")
    p.add_argument('--size', type=int, nargs='+', default=[224, 512])
    p.add_argument('--runs', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--no-int8', action='store_true')
    p.add_argument('--e2e', nargs='+', metavar='CONFIG', help='end-to-end configs')
    p.add_argument('--checkpoints', nargs='+', help='e2e: one checkpoint per config')
    p.add_argument('--e2e-size', type=int, nargs=2, default=(320, 320),
                   help='e2e: export size (the graphs are dynamic)')
    p.add_argument('--max-samples', type=int, default=16)
    p.add_argument('--op-types', nargs='+', default=['Conv', 'MatMul', 'Gemm'],
                   help='e2e: op types int8 quantizes (EfficientViT keeps its attention '
                        'matrix products float with: --op-types Conv)')
    p.add_argument('--work-dir', default='work_dirs/benchmark_onnx')
    p.add_argument('--out', help='write the rows as JSON here')
    return p.parse_args(argv)


def backbone_table(rows, sizes):
    head = '| variant | ' + ' | '.join(
        f'{s}x{s} eager / ort fp32 / ort int8 (ms) | fp32 / eager | int8 / eager'
        for s in sizes) + ' |'
    lines = [head, '|---|' + '---:|---:|---:|' * len(sizes)]
    by_variant = {}
    for r in rows:
        by_variant.setdefault(r['variant'], {})[r['size']] = r
    for variant, per_size in by_variant.items():
        cells = []
        for s in sizes:
            r = per_size.get(s)
            if r is None:
                cells += ['-', '-', '-']
                continue
            int8 = r.get('ort_int8_ms')
            cells.append(f"{r['eager_ms']:.1f} / {r['ort_fp32_ms']:.1f} / "
                         + (f'{int8:.1f}' if int8 else '-'))
            cells.append(f"{r['ort_fp32_ratio']:.2f}")
            cells.append(f"{r['ort_int8_ratio']:.2f}" if int8 else '-')
        lines.append(f'| {variant} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def e2e_table(result):
    lines = ['| config | form | end to end (ms/img) | loading + pipeline | '
             'preprocess + model + post |', '|---|---|---:|---:|---:|']
    for label, forms in result.items():
        for form, r in forms.items():
            lines.append(f"| {label} | {form} | {r['total_ms']:.1f} | {r['pipeline_ms']:.1f} | "
                         f"{r['model_and_post_ms']:.1f} |")
    return '\n'.join(lines)


def run_e2e(args):
    import torch

    from mmedge.utils.onnx_export import export_deployable
    from mmedge.utils.ort_eval import (CalibrationReader, build_model, load_config,
                                       quantize_int8)
    ckpts = args.checkpoints or [None] * len(args.e2e)
    if len(ckpts) != len(args.e2e):
        raise SystemExit('--checkpoints: give one per --e2e config')
    os.makedirs(args.work_dir, exist_ok=True)
    entries = {}
    for path, ckpt in zip(args.e2e, ckpts):
        label = osp.splitext(osp.basename(path))[0]
        cfg = load_config(path)
        if ckpt is None:  # the same fixed-seed weights for PyTorch and the exports
            torch.manual_seed(0)
            ckpt = osp.join(args.work_dir, label + '_seed0.pth')
            torch.save({'state_dict': build_model(cfg).state_dict()}, ckpt)
        model = build_model(cfg, ckpt, deploy=True)
        fp32 = osp.join(args.work_dir, label + '.onnx')
        export_deployable(model, fp32, tuple(args.e2e_size))
        onnx = dict(ort_fp32=fp32)
        if not args.no_int8:
            int8 = osp.join(args.work_dir, label + '_int8.onnx')
            quantize_int8(fp32, int8, CalibrationReader(cfg, 16), op_types=args.op_types)
            onnx['ort_int8'] = int8
        entries[label] = dict(cfg=cfg, onnx=onnx, checkpoint=ckpt)
    result = end_to_end(entries, threads=args.threads, max_samples=args.max_samples)
    print(e2e_table(result))
    return result


def main(argv=None):
    args = parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    if args.e2e:
        result = run_e2e(args)
    else:
        result = []
        t0 = time.perf_counter()
        for fam, arch in _entries(args.models):
            rows = backbone_forms(fam, arch, args.size, runs=args.runs, warmup=args.warmup,
                                  threads=args.threads, int8=not args.no_int8,
                                  workdir=osp.join(args.work_dir, 'backbones'))
            for r in rows:
                print(json.dumps({k: v for k, v in r.items() if k != 'quantization'},
                                 default=float), flush=True)
            result.extend(rows)
        print(f'# {time.perf_counter() - t0:.0f} s')
        print(backbone_table(result, args.size))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1, default=float)
    return result


if __name__ == '__main__':
    main()
