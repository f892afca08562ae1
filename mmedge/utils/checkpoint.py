"""Safe checkpoint loading under torch>=2.6 and format-detecting backbone loading.

torch>=2.6 loads with ``weights_only=True``: the unpickler only rebuilds allow-listed types and never
calls anything else.  mmengine 0.10.7 checkpoints (``message_hub`` with ``HistoryBuffer`` and numpy
values) and the authors' released files (``argparse.Namespace``) need a few harmless types on that
list.  :func:`register_safe_globals` adds exactly those; ``weights_only`` stays on, so a checkpoint
that pickles ``os.system`` or any other callable is still refused.
"""
import argparse
import os
import os.path as osp
import warnings
from typing import Dict, Optional

import numpy as np
import torch

__all__ = [
    'register_safe_globals', 'safe_load', 'load_backbone_checkpoint',
    'extract_state_dict'
]

_REGISTERED = False


def _history_buffer_getattr(obj, name):
    """Stand-in for ``builtins.getattr`` inside the weights-only unpickler.

    ``HistoryBuffer`` pickles its table of statistics methods as ``getattr(HistoryBuffer, 'mean')``
    etc.  Allowing the real ``getattr`` would let a file reach arbitrary attributes of any allowed
    object; this one answers only for ``HistoryBuffer``'s own public methods.
    """
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and isinstance(name, str) and \
            not name.startswith('_') and callable(
                getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise pickle_error(f'getattr({obj!r}, {name!r}) is not allowed in a '
                       f'checkpoint')


def pickle_error(msg: str) -> Exception:
    import pickle
    return pickle.UnpicklingError(msg)


def _numpy_globals():
    out = [np.ndarray, np.dtype]
    try:  # numpy>=2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy<2
        from numpy.core.multiarray import _reconstruct, scalar
    out += [_reconstruct, scalar]
    out += [
        getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith('DType')
    ]
    return out


def register_safe_globals() -> None:
    """Allow-list the types mmengine / official checkpoints need (idempotent)."""
    global _REGISTERED
    if _REGISTERED:
        return
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # torch<2.4: nothing to do, it does not default to weights_only
        _REGISTERED = True
        return
    safe = [argparse.Namespace] + _numpy_globals()
    try:
        from mmengine.logging import HistoryBuffer
        safe.append(HistoryBuffer)
        safe.append((_history_buffer_getattr, 'builtins.getattr'))
    except ImportError:
        pass
    add(safe)
    _REGISTERED = True


def safe_load(path: str, map_location='cpu'):
    """``torch.load(path, weights_only=True)`` with the mmedge allow-list and a clear error."""
    register_safe_globals()
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 (re-raised with context)
        if 'weights_only' in str(err) or 'Unpickl' in type(err).__name__:
            raise RuntimeError(
                f'Refused to load {path!r}: it contains objects that are not '
                f'plain weights (mmedge loads checkpoints with '
                f'weights_only=True so that a file cannot run code). '
                f'Details: {err}') from None
        raise


def extract_state_dict(ckpt) -> Dict[str, torch.Tensor]:
    """The state dict inside a checkpoint: ``state_dict``, ``model_ema``, ``model`` or raw."""
    if not isinstance(ckpt, dict):
        raise TypeError(f'checkpoint is a {type(ckpt).__name__}, not a dict')
    for key in ('state_dict', 'model_ema', 'model', 'module'):
        if key in ckpt and isinstance(ckpt[key], dict):
            ckpt = ckpt[key]
            break
    sd = {k: v for k, v in ckpt.items() if isinstance(v, torch.Tensor)}
    if not sd:
        raise ValueError('checkpoint holds no tensors (keys: '
                         f'{sorted(ckpt)[:10]})')
    if all(k.startswith('module.') for k in sd):
        sd = {k[len('module.'):]: v for k, v in sd.items()}
    return sd


def _is_remote(path: str) -> bool:
    return '://' in path


def _best_candidate(sd, own, converter):
    """The reading of ``sd`` that fits the model best: as is, or converted from the authors'
    layout (backbone only, or with the classification extras such as a final norm, which the
    converters map under ``backbone.`` when ``keep_head=True``)."""
    candidates = [sd]
    if converter is not None:
        try:
            candidates.append(converter(sd))
            with_head = converter(sd, keep_head=True)
            candidates.append({
                k[len('backbone.'):]: v
                for k, v in with_head.items() if k.startswith('backbone.')
            })
        except Exception:  # noqa: BLE001  not the authors' layout
            pass

    def score(c):
        matched = set(c) & set(own)
        return (len(matched), -len(set(own) - set(c)))

    return max(candidates, key=score)


def load_backbone_checkpoint(model: torch.nn.Module,
                             filename: str,
                             prefix: Optional[str] = None,
                             map_location='cpu') -> None:
    """Load an mmedge / mmengine checkpoint or the authors' released file into a backbone.

    Steps: read the file with mmengine's loader (local paths, URLs, ``open-mmlab://``) under
    ``weights_only``; take its state dict; keep the keys under ``prefix`` (e.g. ``'backbone.'``)
    when there are any; if the keys are not this model's, run the family converter
    (``type(model).converter``).  Head keys are ignored; a missing backbone key or a shape mismatch
    raises ``ValueError`` naming the arch, so a wrong variant never loads silently.

    A local path that does not exist only warns: the backbone keeps its initialisation.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    from mmedge.converters import CONVERTERS
    name = type(model).__name__
    if not _is_remote(filename) and not osp.isfile(
            osp.expanduser(filename)):
        warnings.warn(
            f'{name}: pretrained checkpoint {filename!r} does not exist; '
            f'training from scratch. Download the authors\' ImageNet weights '
            f'(see the config and the README) or override it with '
            f'--cfg-options model.backbone.init_cfg.checkpoint=PATH.',
            stacklevel=2)
        return
    register_safe_globals()
    ckpt = CheckpointLoader.load_checkpoint(
        osp.expanduser(filename), map_location=map_location)
    sd = extract_state_dict(ckpt)
    if prefix:
        sub = {k[len(prefix):]: v for k, v in sd.items()
               if k.startswith(prefix)}
        if sub:
            sd = sub
    own = model.state_dict()
    sd = _best_candidate(sd, own, CONVERTERS.get(model.converter))
    matched = set(sd) & set(own)
    if not matched:
        raise ValueError(
            f'{name}: {filename!r} fits neither an mmedge checkpoint nor the '
            f'authors\' {model.converter} format. First keys of the file: '
            f'{sorted(sd)[:5]}; expected keys like {sorted(own)[:5]}. If it '
            f'is a detector/segmentor checkpoint, set prefix="backbone.".')
    missing = sorted(set(own) - set(sd))
    # BN's num_batches_tracked is a counter, not a weight: older files lack it.
    missing = [k for k in missing if not k.endswith('num_batches_tracked')]
    bad_shape = [(k, tuple(sd[k].shape), tuple(own[k].shape))
                 for k in sorted(matched) if sd[k].shape != own[k].shape]
    if missing or bad_shape:
        raise ValueError(
            f'{name} (arch={getattr(model, "arch_name", "?")!r}): {filename!r} '
            f'does not fit this model: {len(missing)} missing keys '
            f'{missing[:5]}, {len(bad_shape)} shape mismatches '
            f'{bad_shape[:3]}. Is it a checkpoint of another variant?')
    model.load_state_dict({k: sd[k] for k in matched}, strict=False)
