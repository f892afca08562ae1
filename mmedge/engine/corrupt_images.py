"""Images that fail to decode: named, and with ``skip=True`` skipped and counted.

:class:`CorruptImageHook` wraps the image-loading transform (``LoadImageFromFile`` and
friends) of the train / val / test pipelines the runner built. A file that cannot be read or
decoded raises :class:`CorruptImageError` naming it and the options; with ``skip=True``
(``tools/train.py --skip-corrupt-images``) a *training* image is skipped instead: the dataset
draws another sample (mmengine's ``BaseDataset`` refetch), the file is appended to
``<log_dir>/skipped_images.txt`` (written by the dataloader workers too) and the count is logged
after every epoch and at the end of the run. Validation / test images are never skipped (the metric
would silently cover fewer images).
"""
import os.path as osp
from typing import Iterator, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmedge.registry import HOOKS

__all__ = ['CorruptImageHook', 'CorruptImageError', 'GuardedLoad', 'SKIPPED_FILE']

SKIPPED_FILE = 'skipped_images.txt'


class CorruptImageError(OSError):
    """An image of the dataset cannot be read or decoded."""


class GuardedLoad:
    """Wraps a loading transform: names undecodable files, optionally skips them."""

    def __init__(self, transform, skip: bool = False, record: Optional[str] = None):
        self.transform = transform
        self.skip = skip
        self.record = record

    def __call__(self, results: dict):
        error = None
        try:
            out = self.transform(results)
        except Exception as exc:  # noqa: BLE001  (any decoder error: named below)
            out, error = None, exc
        if out is not None and out.get('img') is not None:
            return out
        path = results.get('img_path', results.get('filename', '?'))
        reason = f'{type(error).__name__}: {error}' if error else 'decoder returned nothing'
        if not self.skip:
            raise CorruptImageError(
                f'{path}: the image cannot be read / decoded ({reason}). Find every such file '
                'with python tools/misc/check_dataset.py CONFIG --full; to train without them, '
                'pass --skip-corrupt-images to tools/train.py (they are skipped, counted and '
                f'listed in <work_dir>/<timestamp>/{SKIPPED_FILE}).') from error
        if self.record:
            with open(self.record, 'a') as f:
                f.write(f'{path}\t{reason}\n')
        print_log(f'skipped an undecodable training image: {path} ({reason})',
                  logger='current', level=30)
        return None

    def __repr__(self):
        return f'GuardedLoad({self.transform!r}, skip={self.skip})'


def _leaf_datasets(dataset) -> Iterator:
    seen = set()
    stack = [dataset]
    while stack:
        ds = stack.pop()
        if ds is None or id(ds) in seen:
            continue
        seen.add(id(ds))
        inner = vars(ds) if hasattr(ds, '__dict__') else {}
        if 'dataset' in inner:
            stack.append(inner['dataset'])
        if isinstance(inner.get('datasets'), (list, tuple)):
            stack.extend(inner['datasets'])
        if hasattr(inner.get('pipeline'), 'transforms'):
            yield ds


def guard_loading(dataset, skip: bool = False, record: Optional[str] = None) -> int:
    """Wrap the loading transforms of every dataset inside ``dataset``; returns how many."""
    wrapped = 0
    for ds in _leaf_datasets(dataset):
        transforms = ds.pipeline.transforms
        for i, t in enumerate(transforms):
            if isinstance(t, GuardedLoad):
                t.skip, t.record = skip, record
                wrapped += 1
            elif type(t).__name__.startswith(('LoadImageFrom', 'LoadMultiChannelImage')):
                transforms[i] = GuardedLoad(t, skip, record)
                wrapped += 1
    return wrapped


@HOOKS.register_module()
class CorruptImageHook(Hook):
    """Name undecodable images; with ``skip=True`` skip and count undecodable training images."""

    priority = 'VERY_HIGH'

    def __init__(self, skip: bool = False):
        self.skip = skip
        self.record = None

    def before_run(self, runner) -> None:
        self.record = osp.join(runner.log_dir, SKIPPED_FILE)
        for name in ('_train_loop', '_val_loop', '_test_loop'):
            loop = getattr(runner, name, None)
            loader = getattr(loop, 'dataloader', None)
            if loader is None:
                continue
            skip = self.skip and name == '_train_loop'
            guard_loading(loader.dataset, skip, self.record if skip else None)

    def skipped(self) -> int:
        """How many training images were skipped so far in this run."""
        if not self.record or not osp.isfile(self.record):
            return 0
        with open(self.record) as f:
            return sum(1 for _ in f)

    def _report(self, runner, when: str) -> None:
        count = self.skipped()
        if count:
            runner.logger.warning(f'{count} undecodable training image loads skipped {when} '
                                  f'(listed in {self.record})')

    def after_train_epoch(self, runner) -> None:
        self._report(runner, f'up to epoch {runner.epoch + 1}')

    def after_run(self, runner) -> None:
        self._report(runner, 'in this run')
