"""Check the datasets of an mmdet / mmseg / mmpretrain config before training on them.

    python tools/misc/check_dataset.py CONFIG [--fast] [--splits train val test]
                                             [--examples 5] [--cfg-options k=v ...]

Reads every annotation and every image of the train / val / test sets (``--fast``: image headers
only, what ``tools/train.py`` does at start) and prints each fault with its count and the first
file names: unreadable / truncated annotation files, missing or undecodable images, category ids not
in ``categories``, boxes outside their image or of zero area, label values >= ``num_classes`` (the
255 ignore index aside), ``num_classes`` that does not match the dataset's classes. Exit status 1
when there are errors (training would stop or silently lose annotations), 0 otherwise (warnings:
trains, but suspicious).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmedge  # noqa: E402,F401
from mmengine.config import Config, DictAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--fast', action='store_true',
                        help='image headers only (no full decode)')
    parser.add_argument('--splits', nargs='+', default=['train', 'val', 'test'],
                        choices=['train', 'val', 'test'])
    parser.add_argument('--examples', type=int, default=5,
                        help='file names shown per fault')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. '
                        'train_dataloader.dataset.data_root=data/x/')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    from mmedge.utils.data_check import (DataReport, DatasetNotFoundError, check_datasets,
                                         inspect_datasets, prepare_toy_data)
    prepare_toy_data(cfg)
    try:
        check_datasets(cfg)
    except DatasetNotFoundError as exc:
        print(exc)
        return 1
    report = inspect_datasets(cfg, full=not args.fast, splits=tuple(args.splits),
                              report=DataReport(examples=args.examples))
    print(report.format())
    return 1 if report.errors else 0


if __name__ == '__main__':
    sys.exit(main())
