"""Train a detector, segmentor or classifier from a config (mmdet / mmseg / mmpretrain alike).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                 [--skip-data-check | --full-data-check] [--skip-corrupt-images]
                                 [--cfg-options k=v ...] [--launcher pytorch]

The config's ``default_scope`` decides the task.  Outputs go to ``work_dirs/<config name>/``.

Every run (see the README's "Reliability" section): the datasets are checked first (annotations and
image headers; ``--full-data-check`` decodes every image, ``--skip-data-check`` skips it); the run
stops at the first non-finite loss, never writes a checkpoint with non-finite weights, refuses a
work dir that holds another run's checkpoints unless resumed, and saves the random state so that
``--resume`` continues bit for bit (mmedge's exact-resume train loops).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmedge  # noqa: E402,F401  (restricted checkpoint loader for --resume, mmedge:: configs)
from mmengine.config import Config, DictAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from CKPT; without a value, from the latest checkpoint '
        'in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='mixed precision training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual batch size')
    check = parser.add_mutually_exclusive_group()
    check.add_argument(
        '--skip-data-check',
        action='store_true',
        help='do not check the datasets before training')
    check.add_argument(
        '--full-data-check',
        action='store_true',
        help='decode every image in the data check (default: headers only)')
    parser.add_argument(
        '--skip-corrupt-images',
        action='store_true',
        help='skip (and count) training images that fail to decode instead of stopping')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. train_cfg.max_epochs=2')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args):
    """Fold the command line into the config (same meaning as mmdet's tools/train.py)."""
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper == 'AmpOptimWrapper':
            print('AMP training is already enabled in the config.')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'auto_scale_lr' in cfg and 'base_batch_size' in cfg.auto_scale_lr:
            cfg.auto_scale_lr.enable = True
        else:
            raise RuntimeError('--auto-scale-lr needs auto_scale_lr.'
                               'base_batch_size in the config')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    from mmedge.utils.dist import setup_dist  # CPU-only machines: gloo, CPU DDP
    setup_dist(cfg)

    from mmedge.engine import add_safeguards
    from mmedge.utils.data_check import (check_data_contents, check_datasets,
                                         prepare_toy_data)
    prepare_toy_data(cfg)
    check_datasets(cfg)
    if not args.skip_data_check:
        report = check_data_contents(cfg, full=args.full_data_check)
        if report.warnings:
            print('data check:\n' + report.format(), file=sys.stderr)
    for note in add_safeguards(cfg, skip_corrupt_images=args.skip_corrupt_images):
        print(f'warning: {note}', file=sys.stderr)

    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    runner.train()
    return runner


if __name__ == '__main__':
    main()
