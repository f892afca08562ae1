"""Exact resume: a run killed after a checkpoint and resumed continues bit for bit.

mmengine 0.10.7 saves weights, optimizer, schedulers and the message hub, but no random state, and
an epoch-based loop resumed from a mid-epoch checkpoint starts that epoch over. Three pieces make
the continuation exact (on CPU with ``randomness=dict(seed=..., deterministic=True)``):

* **Data randomness depends on the sample's place in the stream, not on the process.** The train
  dataloader is rebuilt around :class:`SeededBatchSampler` / :class:`SeededDataset`: every sample
  is prepared under python / numpy / torch CPU generators seeded from ``(data seed, rank, epoch,
  batch, position)`` and the caller's generators are put back afterwards. Augmentations are then
  the same with 0 or N workers, persistent or not, and skipped batches need not be loaded again;
  the worker seeding of mmengine no longer matters.
* **The main process's generators are saved and restored.** :class:`ExactResumeHook` stores the
  python / numpy / torch (and CUDA) states, the data seed and the sampler seed in every checkpoint
  (``checkpoint['mmedge_resume']``: tensors, ints, floats, strings only) and hands them to the loop
  on ``--resume``; the loop restores them at the point of the loop where the checkpoint was written
  (before the next epoch's hooks for an epoch-end checkpoint, before the next iteration for a
  mid-epoch / iteration checkpoint). Validation and the creation of dataloader iterators run on
  forked generators, so that they do not move the training stream.
* **The sampler continues where it was.** :class:`ExactResumeEpochBasedTrainLoop` skips the
  batches of the current epoch that were already trained (index lists only, no data loading);
  :class:`ExactResumeIterBasedTrainLoop` advances an ``InfiniteSampler`` (or the epochs of a finite
  sampler) the same way instead of loading every past batch as mmengine does.

``tools/train.py`` switches a config's ``EpochBasedTrainLoop`` / ``IterBasedTrainLoop`` (or
``by_epoch``) to these loops and adds the hook.
"""
import random
from contextlib import contextmanager
from typing import Optional, Union

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.base_loop import BaseLoop
from mmengine.runner.utils import calc_dynamic_intervals
from torch.utils.data import DataLoader, Dataset

from mmedge.registry import HOOKS, LOOPS

__all__ = [
    'RESUME_KEY', 'get_rng_state', 'set_rng_state', 'fork_rng', 'SeededDataset',
    'SeededBatchSampler', 'seeded_loader', 'ExactResumeEpochBasedTrainLoop',
    'ExactResumeIterBasedTrainLoop', 'ExactResumeHook', 'EXACT_LOOPS'
]

RESUME_KEY = 'mmedge_resume'
STATE_VERSION = 1


# ------------------------------------------------------------------------- generator states
def get_rng_state(cuda: bool = True) -> dict:
    """python / numpy / torch (and CUDA) generator states as tensors and plain numbers."""
    version, mt, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(
        python=dict(version=int(version), state=torch.tensor(mt, dtype=torch.int64),
                    gauss=None if gauss is None else float(gauss)),
        numpy=dict(name=str(name), keys=torch.from_numpy(keys.astype(np.int64)),
                   pos=int(pos), has_gauss=int(has_gauss), cached=float(cached)),
        torch=torch.get_rng_state())
    if cuda and torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = [s.cpu() for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: dict) -> None:
    """Inverse of :func:`get_rng_state`."""
    py = state['python']
    random.setstate((py['version'], tuple(int(v) for v in py['state'].tolist()), py['gauss']))
    nps = state['numpy']
    np.random.set_state((nps['name'], nps['keys'].numpy().astype(np.uint32), nps['pos'],
                         nps['has_gauss'], nps['cached']))
    torch.set_rng_state(state['torch'])
    cuda = state.get('cuda')
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def _cpu_states():
    return random.getstate(), np.random.get_state(), torch.get_rng_state()


@contextmanager
def fork_rng(seed: Optional[int] = None):
    """Run a block on the python / numpy / torch CPU generators and put them back afterwards.

    With ``seed`` the block starts from generators seeded with it (CUDA is not touched).
    """
    py, nps, tch = _cpu_states()
    try:
        if seed is not None:
            random.seed(seed)
            np.random.seed(seed % 2**32)
            torch.default_generator.manual_seed(seed)
        yield
    finally:
        random.setstate(py)
        np.random.set_state(nps)
        torch.set_rng_state(tch)


def sample_seed(base: int, rank: int, epoch: int, batch: int, position: int) -> int:
    """The seed of one sample, from its place in the data stream."""
    entropy = [int(base) % 2**32, int(rank), int(epoch), int(batch), int(position)]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint32)[0])


# ------------------------------------------------------------------------- seeded data
class SeededDataset(Dataset):
    """Prepares ``(index, seed)`` items under generators seeded with ``seed``.

    Everything else (``metainfo``, ``pipeline``, ...) reads and writes through to the wrapped
    dataset, so hooks that inspect or switch the pipeline keep working.
    """

    # torch's fetcher would hand whole batches to a wrapped dataset's ``__getitems__``
    __getitems__ = None

    def __init__(self, dataset):
        object.__setattr__(self, 'dataset', dataset)

    def __getitem__(self, item):
        if isinstance(item, tuple):
            index, seed = item
            with fork_rng(seed):
                return self.dataset[index]
        return self.dataset[item]

    def __len__(self):
        return len(self.dataset)

    def __getattr__(self, name):
        if name == 'dataset':  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __setattr__(self, name, value):
        if name == 'dataset':
            object.__setattr__(self, name, value)
        else:
            setattr(self.dataset, name, value)


class SeededBatchSampler:
    """Yields the wrapped batch sampler's batches as ``(index, seed)`` lists; can skip batches.

    ``sampler`` is the wrapped sampler (what ``DistSamplerSeedHook`` calls ``set_epoch`` on).
    """

    def __init__(self, batch_sampler, seed: int, rank: int = 0):
        self.batch_sampler = batch_sampler
        self.sampler = getattr(batch_sampler, 'sampler', None)
        self.seed = int(seed)
        self.rank = rank
        self._skip = 0

    def skip_next(self, num_batches: int) -> None:
        """The next pass starts after ``num_batches`` batches (their indices are drawn, no data)."""
        self._skip = int(num_batches)

    def __iter__(self):
        # read when the pass starts, not when it is created: torch's multi-worker iterator
        # creates its index iterator twice and uses the second
        skip, self._skip = self._skip, 0
        epoch = getattr(self.sampler, 'epoch', 0)
        for k, batch in enumerate(self.batch_sampler):
            if k < skip:
                continue
            yield [(int(i), sample_seed(self.seed, self.rank, epoch, k, j))
                   for j, i in enumerate(batch)]

    def __len__(self):
        return len(self.batch_sampler)


def seeded_loader(loader: DataLoader, seed: int) -> DataLoader:
    """The same dataloader, with its dataset and batch sampler wrapped for seeded samples."""
    if isinstance(loader.batch_sampler, SeededBatchSampler):
        return loader
    if loader.batch_sampler is None:
        raise TypeError('exact resume needs a map-style dataset with a (batch) sampler')
    rank, _ = get_dist_info()
    workers = loader.num_workers
    return DataLoader(
        SeededDataset(loader.dataset),
        batch_sampler=SeededBatchSampler(loader.batch_sampler, seed, rank),
        num_workers=workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        timeout=loader.timeout,
        worker_init_fn=loader.worker_init_fn,
        multiprocessing_context=loader.multiprocessing_context if workers else None,
        generator=loader.generator,
        prefetch_factor=loader.prefetch_factor if workers else None,
        persistent_workers=loader.persistent_workers if workers else False,
        pin_memory_device=loader.pin_memory_device)


def _build_seeded(runner, dataloader: Union[DataLoader, dict]) -> DataLoader:
    if isinstance(dataloader, dict):
        diff_rank_seed = runner._randomness_cfg.get('diff_rank_seed', False)
        dataloader = runner.build_dataloader(
            dataloader, seed=runner.seed, diff_rank_seed=diff_rank_seed)
    return seeded_loader(dataloader, runner.seed)


# ------------------------------------------------------------------------- loops
class _ExactResumeMixin:
    """Resume bookkeeping shared by both loops."""

    _resume_state: Optional[dict] = None

    def load_resume_state(self, state: Optional[dict]) -> None:
        """Called by :class:`ExactResumeHook` with a checkpoint's ``mmedge_resume`` entry."""
        self._resume_state = state or {}
        if not state:
            print_log('The resumed checkpoint holds no random state (written without '
                      'mmedge.ExactResumeHook): the run continues, but not bit for bit.',
                      logger='current', level=30)
            return
        batch_sampler = self.dataloader.batch_sampler
        batch_sampler.seed = int(state['data_seed'])
        sampler = batch_sampler.sampler
        if state.get('sampler_seed') is not None and hasattr(sampler, 'seed'):
            if sampler.seed != state['sampler_seed']:
                sampler.seed = int(state['sampler_seed'])
                if hasattr(sampler, '_indices_of_rank'):  # InfiniteSampler: restart its stream
                    sampler.indices = sampler._indices_of_rank()

    def _restore_rng(self) -> None:
        state, self._resume_state = self._resume_state, None
        if not state:
            return
        _, world_size = get_dist_info()
        if state.get('world_size', 1) != world_size or self.runner._randomness_cfg.get(
                'diff_rank_seed', False):
            print_log('Random state not restored: the checkpoint was written with '
                      f'{state.get("world_size", 1)} processes (or per-rank seeds), this run '
                      f'has {world_size}.', logger='current', level=30)
            return
        set_rng_state(state['rng'])

    def _fork_val(self) -> None:
        """Validation runs on forked generators: it does not move the training stream."""
        val_loop = self.runner.val_loop
        if val_loop is None or getattr(val_loop, '_mmedge_forked', False):
            return
        run = val_loop.run

        def forked_run(*args, **kwargs):
            with fork_rng():
                return run(*args, **kwargs)

        val_loop.run = forked_run
        val_loop._mmedge_forked = True


@LOOPS.register_module()
class ExactResumeEpochBasedTrainLoop(_ExactResumeMixin, EpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop`` with seeded data and exact mid-epoch resume."""

    def __init__(self, runner, dataloader, max_epochs: int, val_begin: int = 1,
                 val_interval: int = 1, dynamic_intervals=None) -> None:
        super().__init__(runner, _build_seeded(runner, dataloader), max_epochs, val_begin,
                         val_interval, dynamic_intervals)

    def run(self) -> torch.nn.Module:
        self._fork_val()
        return super().run()

    def _batches_done(self) -> int:
        """Batches of the current epoch already trained by the resumed run."""
        if self._resume_state is None:
            return 0
        done = self._iter - self._epoch * len(self.dataloader)
        if not 0 <= done <= len(self.dataloader):
            raise RuntimeError(
                f'Cannot resume at iteration {self._iter} of epoch {self._epoch + 1}: an epoch '
                f'has {len(self.dataloader)} batches now (batch size or dataset changed since '
                'the checkpoint?).')
        return done

    def run_epoch(self) -> None:
        done = self._batches_done()
        if done == 0:  # written at the end of the previous epoch
            self._restore_rng()
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        self.dataloader.batch_sampler.skip_next(done)
        with fork_rng():
            batches = iter(self.dataloader)
        self._restore_rng()  # written after batch ``done`` of this epoch
        for idx, data_batch in enumerate(batches, start=done):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1


class _SeededStream:
    """Endless batches for the iteration loop, starting after ``start`` trained batches."""

    def __init__(self, loader: DataLoader, start: int):
        from mmengine.dataset import InfiniteSampler
        self.loader = loader
        self.sampler = loader.batch_sampler.sampler
        per_pass = len(loader)
        if isinstance(self.sampler, InfiniteSampler) or per_pass == 0:
            self.epoch, skip = 0, start
        else:
            self.epoch, skip = divmod(start, per_pass)
        self._open(skip)

    def _open(self, skip: int) -> None:
        if hasattr(self.sampler, 'set_epoch') and self.epoch:
            self.sampler.set_epoch(self.epoch)
        self.loader.batch_sampler.skip_next(skip)
        with fork_rng():
            self._batches = iter(self.loader)

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._batches)
        except StopIteration:
            self.epoch += 1
            self._open(0)
            return next(self._batches)


@LOOPS.register_module()
class ExactResumeIterBasedTrainLoop(_ExactResumeMixin, IterBasedTrainLoop):
    """mmengine's ``IterBasedTrainLoop`` with seeded data; resume skips at the sampler."""

    def __init__(self, runner, dataloader, max_iters: int, val_begin: int = 1,
                 val_interval: int = 1000, dynamic_intervals=None) -> None:
        # IterBasedTrainLoop.__init__ opens a dataloader iterator (workers, prefetch) at once;
        # this loop opens it in run(), where it knows how many batches to skip.
        BaseLoop.__init__(self, runner, _build_seeded(runner, dataloader))
        self._max_iters = int(max_iters)
        if self._max_iters != max_iters:
            raise ValueError(f'max_iters must be an integer, got {max_iters}')
        self._max_epochs = 1
        self._epoch = 0
        self._iter = 0
        self.val_begin = val_begin
        self.val_interval = val_interval
        self.stop_training = False
        if hasattr(self.dataloader.dataset, 'metainfo'):
            self.runner.visualizer.dataset_meta = self.dataloader.dataset.metainfo
        self.dataloader_iterator = None
        self.dynamic_milestones, self.dynamic_intervals = calc_dynamic_intervals(
            self.val_interval, dynamic_intervals)

    def run(self) -> torch.nn.Module:
        self._fork_val()
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        self.dataloader_iterator = _SeededStream(self.dataloader, self._iter)
        self._restore_rng()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            self.run_iter(next(self.dataloader_iterator))
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model


EXACT_LOOPS = {
    'EpochBasedTrainLoop': 'mmedge.ExactResumeEpochBasedTrainLoop',
    'IterBasedTrainLoop': 'mmedge.ExactResumeIterBasedTrainLoop',
}


# ------------------------------------------------------------------------- the hook
@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Saves the random state in every checkpoint and gives it back to the loop on resume."""

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        loop = runner.train_loop
        batch_sampler = getattr(loop.dataloader, 'batch_sampler', None)
        sampler = getattr(batch_sampler, 'sampler', None)
        _, world_size = get_dist_info()
        checkpoint[RESUME_KEY] = dict(
            version=STATE_VERSION,
            rng=get_rng_state(),
            data_seed=int(getattr(batch_sampler, 'seed', runner.seed)),
            sampler_seed=None if getattr(sampler, 'seed', None) is None else int(sampler.seed),
            world_size=int(world_size))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False):
            return  # load_from: new run from these weights, nothing to continue
        loop = runner._train_loop
        if not isinstance(loop, _ExactResumeMixin):
            runner.logger.warning(
                f'{type(loop).__name__} is not one of mmedge\'s exact-resume loops: the random '
                'state of the checkpoint is not restored.')
            return
        state = checkpoint.get(RESUME_KEY)
        if state is not None and state.get('version') != STATE_VERSION:
            raise RuntimeError(f'unknown {RESUME_KEY} version {state.get("version")!r}')
        loop.load_resume_state(state)


def use_exact_loops(train_cfg: dict) -> Optional[str]:
    """Switch a config's ``train_cfg`` to the exact-resume loops in place.

    Returns None, or a message when the loop type is not one this can replace.
    """
    loop_type = train_cfg.get('type')
    if loop_type is None:
        by_epoch = train_cfg.pop('by_epoch', True)
        loop_type = 'EpochBasedTrainLoop' if by_epoch else 'IterBasedTrainLoop'
    name = str(loop_type).split('.')[-1]
    if name in ('ExactResumeEpochBasedTrainLoop', 'ExactResumeIterBasedTrainLoop'):
        train_cfg['type'] = 'mmedge.' + name
        return None
    if name not in EXACT_LOOPS:
        train_cfg['type'] = loop_type
        return (f'train loop {loop_type} is not EpochBasedTrainLoop / IterBasedTrainLoop: '
                'resume restores weights and optimizer, not the random state')
    train_cfg['type'] = EXACT_LOOPS[name]
    return None
