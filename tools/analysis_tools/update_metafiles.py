"""Measure Parameters / FLOPs into every ``configs/<family>/metafile.yml``; write its README.md.

    python tools/analysis_tools/update_metafiles.py [--configs PATH ...] [--no-flops] [--check]

The metafiles (mmpretrain's schema, imported by ``model-index.yml``) are the one source of the
papers' numbers: ``Results`` (the metric the paper reports), ``Metadata.Paper Parameters (M)`` /
``Paper FLOPs (G)`` / ``Paper Source``, ``Weights`` and ``Converted From`` are written by hand
and kept as they are. This tool only measures, for each config, ``Metadata.Parameters`` (every
parameter of the built model) and ``Metadata.FLOPs`` (fvcore MACs, 1 per multiply-add, the
papers' counter) at the config's input size (``Metadata.Input Size``):

* detection: :func:`model_zoo_table.measure` (SSDLite / YOLOX the square test size, RetinaNet /
  Mask R-CNN 800x1280 on COCO, 600x1000 on VOC, 1024x2048 on Cityscapes);
* segmentation: :func:`seg_zoo_table.measure` (512x512 on ADE20K / VOC, the resized
  Cityscapes image);
* classification: the classifier's tensor-mode forward on the test crop (224, EdgeNeXt 256).

A config without an entry gets one (no paper numbers: add them by hand). ``--check`` writes
nothing and exits 1 when a stored value is more than 0.5 % off the measured one. Each family's
``README.md`` table is regenerated from its metafile.
"""
import argparse
import os
import os.path as osp
import sys

import yaml

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

TASKS = {
    'mmdet': 'Object Detection',
    'mmseg': 'Semantic Segmentation',
    'mmpretrain': 'Image Classification'
}
TOLERANCE = 0.005


def _stem(path):
    return osp.splitext(osp.basename(path))[0]


def measure_cls(path, flops=True):
    import torch
    from mmengine.config import Config

    from mmedge.utils.benchmark import (build_model_from_config, count_macs,
                                        count_params)
    cfg = Config.fromfile(path)
    size = 224
    for t in cfg.test_dataloader.dataset.pipeline:
        if t['type'] == 'CenterCrop':
            size = t['crop_size']
    size = size if isinstance(size, (tuple, list)) else (size, size)
    wrapped, model = build_model_from_config(path)
    row = dict(params=count_params(model) / 1e6, size=tuple(size))
    if flops:
        with torch.no_grad():
            macs, _ = count_macs(wrapped, torch.randn(1, 3, *size))
        row['gflops'] = macs / 1e9
    return row


def measure(path, flops=True):
    """``(task, row)``: row as the zoo tables' (``params`` M, ``gflops`` G, ``size`` (H, W))."""
    from mmengine.config import Config
    scope = Config.fromfile(path).default_scope
    if scope == 'mmdet':
        from model_zoo_table import measure as fn
    elif scope == 'mmseg':
        from seg_zoo_table import measure as fn
    else:
        fn = measure_cls
    return TASKS[scope], fn(path, flops=flops)


def _load(path):
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


def _dump(data, path):
    with open(path, 'w', encoding='utf-8') as f:
        yaml.safe_dump(data, f, sort_keys=False, allow_unicode=True, width=100)


def _off(stored, measured):
    return stored is None or abs(stored - measured) > TOLERANCE * max(abs(measured), 1)


def update_model(model, task, row):
    """Write the measurements of ``row`` into ``model``; return the names of changed fields."""
    meta = model.setdefault('Metadata', {})
    changed = []
    params = int(round(row['params'] * 1e6))
    if _off(meta.get('Parameters'), params):
        changed.append('Parameters')
    meta['Parameters'] = params
    if 'gflops' in row:
        macs = int(round(row['gflops'] * 1e9))
        if _off(meta.get('FLOPs'), macs):
            changed.append('FLOPs')
        meta['FLOPs'] = macs
    h, w = row['size']
    meta['Input Size'] = f'{h}x{w}'
    meta.setdefault('Task', task)
    return changed


def _fmt(v, scale, digits):
    return '-' if v is None else f'{v / scale:.{digits}f}'


def readme(meta):
    """The family README.md: the metafile's models as a table."""
    lines = []
    for c in meta['Collections']:
        lines += [f'# {c["Name"]}', '']
        paper = c.get('Paper')
        if paper:
            lines += [f'[{paper["Title"]}]({paper["URL"]})', '']
        if c.get('Code'):
            lines += [f'Authors\' code: <{c["Code"]["URL"]}>', '']
        if c.get('Description'):
            lines += [c['Description'], '']
    lines += [
        'Params: the whole model. FLOPs: fvcore MACs (1 per multiply-add) at the input size '
        'shown. "paper": what the paper reports for this pairing (`-`: not given); we have '
        'not trained these configs on the full datasets. Generated from `metafile.yml` by '
        '`python tools/analysis_tools/update_metafiles.py`.', '',
        '| config | task | input | params (M) | FLOPs (G) | paper params (M) | '
        'paper FLOPs (G) | paper result | source | weights |',
        '|---|---|---|---:|---:|---:|---:|---|---|---|'
    ]
    for m in meta['Models']:
        md = m.get('Metadata', {})
        results = []
        for r in m.get('Results') or []:
            metrics = ', '.join(f'{k} {v}' for k, v in r['Metrics'].items())
            results.append(f'{r["Dataset"]}: {metrics}')
        weights = f'[file]({m["Weights"]})' if m.get('Weights') else '-'
        lines.append(
            f'| [`{_stem(m["Config"])}`]({osp.basename(m["Config"])}) | '
            f'{md.get("Task", "-")} | {md.get("Input Size", "-")} | '
            f'{_fmt(md.get("Parameters"), 1e6, 2)} | {_fmt(md.get("FLOPs"), 1e9, 2)} | '
            f'{md.get("Paper Parameters (M)", "-")} | {md.get("Paper FLOPs (G)", "-")} | '
            f'{"; ".join(results) or "-"} | {md.get("Paper Source", "-")} | {weights} |')
    return '\n'.join(lines) + '\n'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--configs', nargs='+', help='default: every config of every metafile')
    p.add_argument('--no-flops', action='store_true', help='measure parameters only')
    p.add_argument('--check', action='store_true', help='compare, write nothing')
    p.add_argument('--threads', type=int, default=1)
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    import mmedge  # noqa: F401
    from mmengine.logging import MMLogger
    MMLogger.get_instance('mmengine', log_level='WARNING')
    from mmedge.utils.mim import find_config, list_configs

    index = _load(osp.join(ROOT, 'model-index.yml'))
    metafiles = {osp.dirname(rel): _load(osp.join(ROOT, rel)) for rel in index['Import']}
    wanted = [find_config(c) for c in args.configs] if args.configs else list_configs()
    failures = []
    for path in wanted:
        rel = osp.relpath(path, ROOT)
        folder = osp.dirname(rel)
        if folder not in metafiles:
            raise SystemExit(f'{rel}: {folder}/metafile.yml is not imported by model-index.yml')
        meta = metafiles[folder]
        models = {m['Config']: m for m in meta['Models']}
        if rel not in models:
            meta['Models'].append(
                dict(Name=_stem(rel), **{'In Collection': meta['Collections'][0]['Name']},
                     Config=rel))
            models[rel] = meta['Models'][-1]
        task, row = measure(path, flops=not args.no_flops)
        changed = update_model(models[rel], task, row)
        print(_stem(rel), row.get('params'), row.get('gflops'), 'changed: ' + (
            ', '.join(changed) or '-'), flush=True)
        failures += [f'{rel}: {c}' for c in changed]
    if args.check:
        if failures:
            print('out of date (more than 0.5 % off):\n  ' + '\n  '.join(failures))
            return 1
        return 0
    for folder, meta in metafiles.items():
        meta['Models'].sort(key=lambda m: _stem(m['Config']))
        _dump(meta, osp.join(ROOT, folder, 'metafile.yml'))
        with open(osp.join(ROOT, folder, 'README.md'), 'w', encoding='utf-8') as f:
            f.write(readme(meta))
    return 0


if __name__ == '__main__':
    sys.exit(main())
