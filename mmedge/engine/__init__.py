"""Training safeguards: non-finite losses and weights, foreign checkpoints, exact resume and
undecodable images (see the README's "Reliability" section).

:func:`add_safeguards` puts them into a config; ``tools/train.py`` calls it for every run.
"""
from .corrupt_images import CorruptImageError, CorruptImageHook, GuardedLoad
from .guards import (FIXES, ForeignCheckpointError, NonFiniteCheckpointError,
                     NonFiniteGuardHook, NonFiniteLossError, WorkDirGuardHook)
from .resume import (RESUME_KEY, ExactResumeEpochBasedTrainLoop, ExactResumeHook,
                     ExactResumeIterBasedTrainLoop, fork_rng, get_rng_state, set_rng_state,
                     use_exact_loops)

__all__ = [
    'add_safeguards', 'CorruptImageError', 'CorruptImageHook', 'GuardedLoad', 'FIXES',
    'ForeignCheckpointError', 'NonFiniteCheckpointError', 'NonFiniteGuardHook',
    'NonFiniteLossError', 'WorkDirGuardHook', 'RESUME_KEY', 'ExactResumeEpochBasedTrainLoop',
    'ExactResumeHook', 'ExactResumeIterBasedTrainLoop', 'fork_rng', 'get_rng_state',
    'set_rng_state', 'use_exact_loops'
]

_HOOKS = ('NonFiniteGuardHook', 'WorkDirGuardHook', 'ExactResumeHook', 'CorruptImageHook')


def add_safeguards(cfg, skip_corrupt_images: bool = False):
    """Add mmedge's training hooks and exact-resume loops to ``cfg`` (in place).

    Hooks already listed in ``custom_hooks`` (by a config) are kept, with ``skip`` of
    ``CorruptImageHook`` set from ``skip_corrupt_images``. Returns a list of notes (things that
    could not be switched), empty normally.
    """
    hooks = list(cfg.get('custom_hooks', None) or [])
    present = {str(h.get('type', '')).split('.')[-1]: h for h in hooks if isinstance(h, dict)}
    for name in _HOOKS:
        if name not in present:
            hook = dict(type=f'mmedge.{name}')
            hooks.append(hook)
            present[name] = hook
    present['CorruptImageHook']['skip'] = bool(skip_corrupt_images)
    cfg['custom_hooks'] = hooks
    notes = []
    if cfg.get('train_cfg') is not None:
        note = use_exact_loops(cfg['train_cfg'])
        if note:
            notes.append(note)
    return notes
