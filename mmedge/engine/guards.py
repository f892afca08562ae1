"""Hooks that keep a training run from losing or corrupting good work.

* :class:`NonFiniteGuardHook` stops the run at the first iteration whose loss terms are not finite
  (NaN / inf), naming the iteration, the terms and the usual fixes, and refuses to write a
  checkpoint whose parameters or buffers are not finite.
* :class:`WorkDirGuardHook` refuses to start a run that was not resumed in a folder that already
  holds another run's checkpoints (``*.pth`` / ``last_checkpoint``), so that they are never
  overwritten.

``tools/train.py`` installs both; any config can list them in ``custom_hooks`` as
``dict(type='mmedge.NonFiniteGuardHook')`` / ``dict(type='mmedge.WorkDirGuardHook')``.
"""
import glob
import math
import os.path as osp
from typing import Dict, List, Optional

import torch
from mmengine.hooks import Hook

from mmedge.registry import HOOKS

__all__ = [
    'NonFiniteGuardHook', 'WorkDirGuardHook', 'NonFiniteLossError',
    'NonFiniteCheckpointError', 'ForeignCheckpointError', 'FIXES'
]

FIXES = ('Usual fixes: a lower learning rate (--cfg-options optim_wrapper.optimizer.lr=...), '
         'a (longer) warm-up (a LinearLR param_scheduler over the first iterations), '
         'gradient clipping (--cfg-options optim_wrapper.clip_grad.max_norm=10), with --amp a '
         "dynamic loss scale (optim_wrapper.loss_scale='dynamic'), and bad data "
         '(python tools/misc/check_dataset.py CONFIG).')


class NonFiniteLossError(FloatingPointError):
    """A loss term of a training iteration is NaN or infinite."""


class NonFiniteCheckpointError(FloatingPointError):
    """A checkpoint about to be written holds NaN / infinite weights."""


class ForeignCheckpointError(FileExistsError):
    """A new (not resumed) run would overwrite another run's checkpoints."""


def _as_float(value) -> Optional[float]:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            return float('nan') if not torch.isfinite(value).all() else 0.
        return float(value.detach().float().cpu())
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _batch_files(data_batch, limit: int = 8) -> List[str]:
    """Image paths of a batch (mmdet / mmseg / mmpretrain data samples)."""
    samples = data_batch.get('data_samples') if isinstance(data_batch, dict) else None
    files = []
    for sample in samples or []:
        path = getattr(sample, 'img_path', None)
        if path is None and hasattr(sample, 'metainfo'):
            path = sample.metainfo.get('img_path')
        if path:
            files.append(str(path))
    return files[:limit]


def _last_good(runner) -> str:
    last = osp.join(runner.work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            return f'last good checkpoint: {f.read().strip()}'
    return 'no checkpoint was written before'


def non_finite_tensors(state: Dict[str, torch.Tensor]) -> List[str]:
    """Names of the floating-point tensors of ``state`` with a NaN / inf entry."""
    bad = []
    for name, value in state.items():
        if (isinstance(value, torch.Tensor) and value.is_floating_point()
                and not bool(torch.isfinite(value).all())):
            bad.append(name)
    return bad


@HOOKS.register_module()
class NonFiniteGuardHook(Hook):
    """Stop at the first non-finite loss; never save non-finite weights.

    Runs before the logger and checkpoint hooks in ``after_train_iter`` (priority
    ``ABOVE_NORMAL``), so the failing iteration is neither logged as a number nor saved.
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if not isinstance(outputs, dict):
            return
        bad = {}
        for key, value in outputs.items():
            if 'loss' not in key:
                continue
            number = _as_float(value)
            if number is not None and not math.isfinite(number):
                bad[key] = number
        if not bad:
            return
        finite = {k: _as_float(v) for k, v in outputs.items()
                  if 'loss' in k and k not in bad and _as_float(v) is not None}
        terms = ', '.join(f'{k}={v}' for k, v in bad.items())
        msg = (f'Non-finite loss at iteration {runner.iter + 1} (epoch {runner.epoch + 1}): '
               f'{terms}')
        if finite:
            msg += '; finite terms: ' + ', '.join(f'{k}={v:.4g}' for k, v in finite.items())
        files = _batch_files(data_batch)
        if files:
            msg += f'; images of this batch: {", ".join(files)}'
        msg += ('. Training stopped; no checkpoint was written for this iteration ('
                + _last_good(runner) + '). ' + FIXES)
        runner.logger.error(msg)
        raise NonFiniteLossError(msg)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        problems = []
        for part in ('state_dict', 'ema_state_dict'):
            state = checkpoint.get(part)
            if isinstance(state, dict):
                problems += [f'{part}.{name}' for name in non_finite_tensors(state)]
        if not problems:
            return
        shown = ', '.join(problems[:10]) + (f' (+{len(problems) - 10} more)'
                                            if len(problems) > 10 else '')
        msg = (f'Refusing to save a checkpoint at iteration {runner.iter + 1} (epoch '
               f'{runner.epoch + 1}): {len(problems)} parameter / buffer tensors are not '
               f'finite: {shown}. Nothing was written ({_last_good(runner)}). ' + FIXES)
        runner.logger.error(msg)
        raise NonFiniteCheckpointError(msg)


def checkpoint_dir(runner) -> str:
    """Where the runner's CheckpointHook writes (its ``out_dir`` rule)."""
    from mmengine.hooks import CheckpointHook
    for hook in runner.hooks:
        if isinstance(hook, CheckpointHook) and hook.out_dir:
            if hook.out_dir == runner.work_dir or '://' in hook.out_dir:
                return hook.out_dir
            return osp.join(hook.out_dir, osp.basename(runner.work_dir.rstrip(osp.sep)))
    return runner.work_dir


def foreign_checkpoints(work_dir: str, ckpt_dir: Optional[str] = None) -> List[str]:
    """Checkpoint files (and ``last_checkpoint``) a new run in ``work_dir`` could overwrite."""
    found = []
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        found.append(last)
    for folder in {work_dir, ckpt_dir or work_dir}:
        if '://' not in folder:
            found += sorted(glob.glob(osp.join(folder, '*.pth')))
    return found


@HOOKS.register_module()
class WorkDirGuardHook(Hook):
    """Refuse a run that was not resumed where another run's checkpoints are.

    A run started with ``resume`` (``--resume``) continues that run and may write its next
    checkpoints there; any other run (also ``load_from`` fine-tuning) must use a fresh folder.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        if getattr(runner, '_resume', False):
            return
        found = foreign_checkpoints(runner.work_dir, checkpoint_dir(runner))
        if not found:
            return
        shown = ', '.join(found[:6]) + (f' (+{len(found) - 6} more)' if len(found) > 6 else '')
        msg = (f'The work dir {runner.work_dir} already holds the checkpoints of another run '
               f'({shown}); a new run would overwrite them and last_checkpoint. Continue that '
               'run with --resume (or --resume CKPT), start a new one elsewhere with '
               '--work-dir DIR, or move / delete those files yourself.')
        runner.logger.error(msg)
        raise ForeignCheckpointError(msg)
