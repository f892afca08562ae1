"""Evaluate a checkpoint with the config's real mmdet / mmseg / mmpretrain metrics.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--show-dir DIR] [--out FILE.pkl]
                                           [--cfg-options k=v ...] [--launcher pytorch]
                                           [--non-strict]

Prints the metrics (COCO / VOC mAP, mIoU per class and mean, top-1) and writes them as JSON to
``<work_dir>/metrics.json``.

The checkpoint is loaded strictly: a key that is missing, unexpected or of another shape stops the
run with the keys named (mmengine would only log a warning and evaluate a half-loaded model).
A fused checkpoint written by ``tools/model_converters/reparameterize.py`` says so in its meta;
the parts it holds fused are then built with ``deploy=True`` (as ``--cfg-options
model.backbone.deploy=True`` would), and the tool prints the setting it made.
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmedge  # noqa: E402,F401  (restricted checkpoint loader, mmedge:: configs)
from mmengine.config import Config, DictAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save the metrics / logs')
    parser.add_argument(
        '--out', help='dump the raw predictions to this pickle file')
    parser.add_argument(
        '--show-dir',
        help='save images with predictions drawn on them into this folder')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. test_dataloader.batch_size=4')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--non-strict',
        action='store_true',
        help="load only the checkpoint keys that fit the model (mmengine's default)")
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def _enable_visualization(cfg, show_dir: str) -> None:
    """Turn on the task's visualisation hook and point it at ``show_dir``."""
    show_dir = osp.abspath(show_dir)
    scope = cfg.get('default_scope', 'mmengine')
    hooks = cfg.default_hooks
    if scope == 'mmpretrain':
        hooks.visualization = dict(
            type='VisualizationHook', enable=True, out_dir=show_dir)
        return
    if 'visualization' not in hooks:
        raise RuntimeError('--show-dir needs default_hooks.visualization in '
                           'the config')
    hooks.visualization.draw = True
    hooks.visualization.interval = 1
    if scope == 'mmdet':
        hooks.visualization.test_out_dir = show_dir  # absolute: used as is
    else:  # mmseg draws through the visualizer's local backend
        cfg.visualizer.save_dir = show_dir


def merge_args(cfg, args):
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show_dir:
        _enable_visualization(cfg, args.show_dir)
    if args.out:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError('--out must be a .pkl / .pickle file')
        if cfg.get('default_scope') == 'mmdet':
            dump = dict(type='DumpDetResults', out_file_path=args.out)
        else:
            dump = dict(type='DumpResults', out_file_path=args.out)
        evaluator = cfg.test_evaluator
        if isinstance(evaluator, (list, tuple)):
            cfg.test_evaluator = list(evaluator) + [dump]
        elif 'metrics' in evaluator:
            evaluator.metrics = list(evaluator.metrics) + [dump]
        else:
            cfg.test_evaluator = [evaluator, dump]
    return cfg


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except TypeError:
        return float(value) if hasattr(value, '__float__') else str(value)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    from mmedge.utils.dist import setup_dist  # CPU-only machines: gloo, CPU DDP
    setup_dist(cfg)
    if not osp.isfile(args.checkpoint) and '://' not in args.checkpoint:
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} not found')
    from mmedge.utils.checkpoint import (build_fused_parts, fused_parts,
                                         load_model_strict)
    for setting in build_fused_parts(cfg, fused_parts(args.checkpoint)):
        print(f'{args.checkpoint} is fused: building the model with {setting}')

    from mmedge.utils.data_check import check_datasets, prepare_toy_data
    prepare_toy_data(cfg)
    check_datasets(cfg)

    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    if not args.non_strict:
        load_model_strict(runner, args.config)
    metrics = runner.test()
    metrics = {k: _jsonable(v) for k, v in (metrics or {}).items()}
    out = osp.join(cfg.work_dir, 'metrics.json')
    os.makedirs(cfg.work_dir, exist_ok=True)
    with open(out, 'w') as f:
        json.dump(metrics, f, indent=2)
    print('metrics:', json.dumps(metrics, indent=2))
    print(f'metrics written to {out}')
    if args.show_dir:
        print(f'visualisations in {osp.abspath(args.show_dir)}')
    return metrics


if __name__ == '__main__':
    main()
