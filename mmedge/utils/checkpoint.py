"""Checkpoint loading that cannot run code or corrupt memory, and explicit backbone formats.

:func:`safe_load` reads a checkpoint through mmedge's restricted unpickler
(:mod:`mmedge.utils.restricted_pickle`): torch rebuilds the tensors and storages, every other
object is rebuilt by a validating builder of mmedge's, and anything else is refused with
:class:`CheckpointRefused` naming the global or opcode and the file.  torch's own allow-list
(``torch.serialization.get_safe_globals()``) is never changed, so a plain ``torch.load`` keeps
torch's default behaviour.

:func:`register_checkpoint_loader` (called by ``import mmedge``) makes mmengine read *local* files
through :func:`safe_load`: ``--resume``, ``load_from``, ``tools/test.py``, mmengine's
``PretrainedInit`` and ``load_checkpoint`` all go through ``CheckpointLoader``'s ``''`` scheme.

:func:`load_pretrained` implements ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...,
format='auto' | 'official' | 'mmedge')`` for mmedge backbones.
"""
import os
import os.path as osp
import pickle
from typing import Dict, Optional

import torch

from . import restricted_pickle
from .restricted_pickle import (CheckpointCorrupt, CheckpointError,
                                CheckpointRefused)

__all__ = [
    'CheckpointError', 'CheckpointRefused', 'CheckpointCorrupt', 'safe_load',
    'register_checkpoint_loader', 'load_pretrained', 'load_backbone_checkpoint',
    'extract_state_dict', 'PRETRAINED_URLS', 'CHECKPOINT_FORMATS', 'fused_parts',
    'build_fused_parts', 'load_model_strict'
]

# --------------------------------------------------------------------------------------------
# safe_load
# --------------------------------------------------------------------------------------------
_ZIP_MAGIC = b'PK\x03\x04'
# the first pickle of a legacy (non-zip) torch file is its magic number, written with the
# file's pickle protocol (torch's default is 2)
_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
_LEGACY_HEADS = tuple(
    pickle.dumps(_LEGACY_MAGIC, protocol=p)[:-1] for p in range(2, 5))
_WHAT_WE_LOAD = ('tensors, plain containers, numbers and strings, numeric numpy arrays, '
                 'mmengine HistoryBuffer data and argparse.Namespace')


def _refused_message(path, reason):
    return (f'Refused to load {path!r}: {reason}. mmedge reads checkpoints with a restricted '
            f'loader that rebuilds only {_WHAT_WE_LOAD}, so that a file cannot run code or '
            f'corrupt memory. Do not load a file you do not trust; if you wrote this one '
            f'yourself, save its tensors alone (torch.save({{"state_dict": '
            f'model.state_dict()}}, path)) and load that.')


def _corrupt_message(path, reason):
    return (f'Cannot read {path!r} as a PyTorch checkpoint: {reason}. It may be an '
            f'interrupted save or download (save or download it again), or not a checkpoint '
            f'at all.')


def _sniff(path):
    """``'zip'`` or ``'legacy'``; raises :class:`CheckpointCorrupt` for anything else."""
    size = osp.getsize(path)
    if size == 0:
        raise CheckpointCorrupt(_corrupt_message(path, 'the file is empty (0 bytes)'))
    with open(path, 'rb') as f:
        head = f.read(64)
    if head.startswith(_ZIP_MAGIC):
        try:
            records = torch._C.PyTorchFileReader(path).get_all_records()
        except RuntimeError as err:
            raise CheckpointCorrupt(
                _corrupt_message(
                    path, f'its zip archive is unreadable, probably truncated '
                    f'({str(err).splitlines()[0][:160]})')) from None
        if any(r == 'constants.pkl' or r.endswith('/constants.pkl')
               for r in records):
            raise CheckpointRefused(
                _refused_message(path, 'it is a TorchScript archive (code), not a checkpoint'))
        return 'zip'
    if head.startswith(_LEGACY_HEADS):
        return 'legacy'
    raise CheckpointCorrupt(
        _corrupt_message(
            path, f'it is neither a zip nor a legacy torch file '
            f'({size} bytes, starting with {head[:8]!r})'))


def _force_weights_only():
    return os.getenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', '0').lower() in (
        '1', 'y', 'yes', 'true')


def safe_load(path, map_location='cpu'):
    """Load a local checkpoint through mmedge's restricted unpickler.

    Args:
        path (str | PathLike): A local file (zip or legacy torch format).
        map_location: As for :func:`torch.load`. Defaults to ``'cpu'``.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        CheckpointRefused: the file holds a global or opcode the loader does not rebuild.
        CheckpointCorrupt: empty, truncated, random bytes or otherwise unreadable.
    """
    path = os.fspath(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path!r} does not exist')
    fmt = _sniff(path)
    if _force_weights_only():
        # torch refuses any pickle_module then; its own weights-only loader reads plain
        # tensor files, and we never widen its allow-list.
        try:
            return torch.load(path, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError:
            raise CheckpointRefused(
                f'Refused to load {path!r}: TORCH_FORCE_WEIGHTS_ONLY_LOAD is set, so torch '
                f'allows no other unpickler than its own, and that one cannot read this file '
                f'(mmengine checkpoints hold HistoryBuffer and numpy data). Unset '
                f'TORCH_FORCE_WEIGHTS_ONLY_LOAD to read it with mmedge\'s restricted loader, '
                f'which rebuilds only {_WHAT_WE_LOAD}.') from None
    try:
        return torch.load(path, map_location=map_location,
                          pickle_module=restricted_pickle, weights_only=False)
    except CheckpointRefused as err:
        raise CheckpointRefused(_refused_message(path, str(err))) from None
    except CheckpointCorrupt as err:
        raise CheckpointCorrupt(_corrupt_message(path, str(err))) from None
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        # torch's archive readers: truncated zip records, "unexpected EOF", bad magic number
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        if 'weights_only' in msg:  # never pass on torch's advice to switch the guard off
            msg = type(err).__name__
        raise CheckpointCorrupt(
            _corrupt_message(path, f'the {fmt} archive is damaged ({msg[:200]})')) from None


# --------------------------------------------------------------------------------------------
# mmengine
# --------------------------------------------------------------------------------------------
def load_from_local_restricted(filename, map_location=None):
    """mmengine ``CheckpointLoader`` scheme ``''`` (local paths): :func:`safe_load`."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_load(filename, map_location=map_location)


def register_checkpoint_loader() -> None:
    """Make mmengine read local checkpoints with :func:`safe_load` (idempotent)."""
    try:
        from mmengine.runner.checkpoint import CheckpointLoader
    except ImportError:  # mmengine absent: nothing reads checkpoints through it
        return
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_restricted, force=True)


# --------------------------------------------------------------------------------------------
# backbones: init_cfg=dict(type='Pretrained', ...)
# --------------------------------------------------------------------------------------------
CHECKPOINT_FORMATS = ('auto', 'official', 'mmedge')

# The authors' ImageNet weights, by (converter family, arch) -- the URLs the configs cite.
PRETRAINED_URLS = {
    ('edgenext', 'small'):
    'https://github.com/mmaaz60/EdgeNeXt/releases/download/v1.0/edgenext_small.pth',
    ('emo', '1m'): 'https://github.com/zhangzjn/EMO/raw/main/resources/EMO_1M/net.pth',
    ('emo', '2m'): 'https://github.com/zhangzjn/EMO/raw/main/resources/EMO_2M/net.pth',
    ('emo', '5m'): 'https://github.com/zhangzjn/EMO/raw/main/resources/EMO_5M/net.pth',
    ('efficientvit', 'b1'):
    'https://huggingface.co/han-cai/efficientvit-cls/resolve/main/efficientvit_b1_r224.pt',
    ('efficientvit', 'b2'):
    'https://huggingface.co/han-cai/efficientvit-cls/resolve/main/efficientvit_b2_r224.pt',
    ('repnext', 'm3'):
    'https://github.com/suous/RepNeXt/releases/download/v1.0/repnext_m3_distill_300e.pth',
    ('repnext', 'm4'):
    'https://github.com/suous/RepNeXt/releases/download/v1.0/repnext_m4_distill_300e.pth',
    ('repnext', 'm5'):
    'https://github.com/suous/RepNeXt/releases/download/v1.0/repnext_m5_distill_300e.pth',
}
# families whose authors released no ImageNet weights: the config to train them with
_NO_RELEASE = {
    'EdgeViT': 'configs/cls_edgevit_{arch}_in1k.py',
    'EfficientViTPaper': 'configs/cls_efficientvit_{arch}_in1k.py',
}


def _arch_key(model):
    arch = getattr(model, 'arch_name', None)
    if not isinstance(arch, str):
        return None
    return getattr(model, 'arch_aliases', {}).get(arch.lower(), arch.lower())


def _missing_file_error(model, filename):
    name = type(model).__name__
    arch = _arch_key(model)
    url = PRETRAINED_URLS.get((model.converter, arch))
    if url is not None:
        where = f'Download the authors\' ImageNet weights for {name}-{arch} from {url} to that path'
    elif name in _NO_RELEASE:
        where = (f'The authors released no ImageNet weights for {name}: train '
                 f'{_NO_RELEASE[name].format(arch=arch)} and save its checkpoint there')
    else:
        where = (f'mmedge knows no download address for {name} arch={arch!r}: get the '
                 f'authors\' ImageNet weights for it (see the README) and save them there')
    return FileNotFoundError(
        f'{name}: the pretrained checkpoint {filename!r} (init_cfg=Pretrained) does not exist. '
        f'{where}, or point the config at another file with --cfg-options '
        f'model.backbone.init_cfg.checkpoint=PATH. To train the backbone from scratch on '
        f'purpose, pass --cfg-options model.backbone.init_cfg=None.')


def extract_state_dict(ckpt) -> Dict[str, torch.Tensor]:
    """The tensors of a checkpoint's state dict.

    Looks, in this order, under ``state_dict`` (mmengine / mmedge / mmdet / mmseg files),
    ``model_ema`` and ``model`` (the authors' releases) and ``module``; a dict holding none of
    them is taken as the state dict itself.  Non-tensor entries are dropped and a ``module.``
    prefix on every key (DataParallel) is stripped.
    """
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


def _official_reading(sd, converter):
    """The authors' layout converted to backbone keys (the classification extras, such as a
    final norm, which the converters map under ``backbone.`` with ``keep_head=True``, included)."""
    full = converter(sd, keep_head=True)
    return {
        k[len('backbone.'):]: v
        for k, v in full.items() if k.startswith('backbone.')
    }


def _missing(reading, own):
    # BN's num_batches_tracked is a counter, not a weight: older files lack it.
    return sorted(k for k in set(own) - set(reading)
                  if not k.endswith('num_batches_tracked'))


def _choose_auto(sd, own, converter, family):
    """(reading, kind, why) for ``format='auto'``: mmedge keys if they cover the model, else the
    authors' layout through the family converter."""
    missing_as_is = _missing(sd, own)
    if set(sd) & set(own) and not missing_as_is:
        return sd, 'mmedge', 'its keys are this model\'s keys'
    if converter is None:
        return sd, 'mmedge', (f'{len(missing_as_is)} of this model\'s keys are missing and '
                              f'the family has no official format')
    try:
        official = _official_reading(sd, converter)
    except Exception as err:  # noqa: BLE001  re-raised with both readings explained
        raise ValueError(
            f'the file is not in mmedge\'s layout ({len(missing_as_is)} of '
            f'{len(own)} keys missing, e.g. {missing_as_is[:3]}) and the {family} converter '
            f'failed on it: {type(err).__name__}: {err}') from err
    missing_official = _missing(official, own)
    if not missing_official:
        return official, 'official', (
            f'its keys are not this model\'s ({len(missing_as_is)} missing) but the '
            f'{family} converter maps them all')
    # neither reading is complete: report the one that fits better
    if len(set(official) & set(own)) > len(set(sd) & set(own)):
        return official, 'official', 'the converted keys fit best (still incomplete)'
    return sd, 'mmedge', 'its keys as they are fit best (still incomplete)'


def load_backbone_checkpoint(model: torch.nn.Module,
                             filename: str,
                             prefix: Optional[str] = None,
                             map_location='cpu',
                             format: str = 'auto') -> str:
    """Load an mmedge / mmengine checkpoint or the authors' released file into a backbone.

    Steps: read the file (local paths through :func:`safe_load`; URLs and ``open-mmlab://``
    through mmengine's loader); take its state dict (:func:`extract_state_dict`); keep the keys
    under ``prefix`` (e.g. ``'backbone.'``) when there are any; then read the keys as

    * ``'mmedge'``: as they are;
    * ``'official'``: the authors' layout, through the family converter
      (``mmedge.converters.CONVERTERS[type(model).converter]``); a converter error surfaces;
    * ``'auto'`` (default): as they are if they cover the model's keys, else through the
      converter; the choice and the reason are logged.

    Head keys are ignored; a missing backbone key or a shape mismatch raises ``ValueError``
    naming the arch, so a wrong variant never loads silently.  A local path that does not exist
    raises ``FileNotFoundError`` naming the authors' download address for the variant.

    Returns:
        str: The line logged, e.g. ``'EMO: loaded PATH (official: ...)'``.
    """
    from mmengine.logging import print_log

    from mmedge.converters import CONVERTERS
    name = type(model).__name__
    if format not in CHECKPOINT_FORMATS:
        raise ValueError(f'{name}: init_cfg format={format!r} is not one of '
                         f'{CHECKPOINT_FORMATS} (auto: detect and log; official: the '
                         f'authors\' released layout; mmedge: keys as they are)')
    family = model.converter
    converter = CONVERTERS.get(family) if family else None
    if format == 'official' and converter is None:
        raise ValueError(f'{name}: format=\'official\' but {name} has no converter for the '
                         f'authors\' layout (no official weights were released); use '
                         f'format=\'mmedge\' or \'auto\'')
    if _is_remote(filename):
        from mmengine.runner.checkpoint import CheckpointLoader
        ckpt = CheckpointLoader.load_checkpoint(filename, map_location=map_location)
    else:
        path = osp.expanduser(filename)
        if not osp.isfile(path):
            raise _missing_file_error(model, filename)
        ckpt = safe_load(path, map_location=map_location)
    sd = extract_state_dict(ckpt)
    if prefix:
        sub = {k[len(prefix):]: v for k, v in sd.items()
               if k.startswith(prefix)}
        if sub:
            sd = sub
    own = model.state_dict()
    if format == 'mmedge':
        reading, why = sd, 'format=\'mmedge\': keys as they are'
    elif format == 'official':
        reading, why = _official_reading(sd, converter), (
            f'format=\'official\': converted with the {family} converter')
    else:
        reading, format, why = _choose_auto(sd, own, converter, family)
        why = f'format=\'auto\' chose {format}: {why}'
    matched = set(reading) & set(own)
    if not matched:
        raise ValueError(
            f'{name}: {filename!r} fits neither an mmedge checkpoint nor the '
            f'authors\' {family} format ({why}). First keys of the file: '
            f'{sorted(sd)[:5]}; expected keys like {sorted(own)[:5]}. If it '
            f'is a detector/segmentor checkpoint, set prefix="backbone.".')
    missing = _missing(reading, own)
    bad_shape = [(k, tuple(reading[k].shape), tuple(own[k].shape))
                 for k in sorted(matched) if reading[k].shape != own[k].shape]
    if missing or bad_shape:
        raise ValueError(
            f'{name} (arch={getattr(model, "arch_name", "?")!r}): {filename!r} '
            f'does not fit this model ({why}): {len(missing)} missing keys '
            f'{missing[:5]}, {len(bad_shape)} shape mismatches '
            f'{bad_shape[:3]}. Is it a checkpoint of another variant?')
    model.load_state_dict({k: reading[k] for k in matched}, strict=False)
    line = f'{name}: loaded {filename} ({why}; {len(matched)} tensors)'
    print_log(line, logger='current')
    return line


_PRETRAINED_KEYS = {'type', 'checkpoint', 'prefix', 'map_location', 'format'}


def load_pretrained(model: torch.nn.Module, init_cfg: dict) -> str:
    """``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=None, map_location='cpu',
    format='auto')`` for an mmedge backbone (see :func:`load_backbone_checkpoint`)."""
    unknown = set(init_cfg) - _PRETRAINED_KEYS
    if unknown or 'checkpoint' not in init_cfg:
        raise ValueError(
            f'{type(model).__name__}: init_cfg {dict(init_cfg)!r}: Pretrained takes '
            f'checkpoint=PATH and optionally {sorted(_PRETRAINED_KEYS - {"type", "checkpoint"})}'
            + (f'; unknown keys {sorted(unknown)}' if unknown else ''))
    return load_backbone_checkpoint(
        model, init_cfg['checkpoint'], prefix=init_cfg.get('prefix'),
        map_location=init_cfg.get('map_location', 'cpu'),
        format=init_cfg.get('format', 'auto'))


# --------------------------------------------------------------------------------------------
# fused (deploy-form) checkpoints in tools/test.py
# --------------------------------------------------------------------------------------------
def fused_parts(path: str) -> list:
    """The parts a checkpoint written by ``tools/model_converters/reparameterize.py`` holds in
    their fused form (``meta['fused']``: ``['backbone']``, ``['backbone', 'head']`` or
    ``['<model>']``); ``[]`` for any other checkpoint, and for remote files."""
    if _is_remote(path) or not osp.isfile(path):
        return []
    meta = safe_load(path).get('meta')
    if not isinstance(meta, dict) or not meta.get('deploy'):
        return []
    return [str(p) for p in meta.get('fused', [])]


def build_fused_parts(cfg, parts) -> list:
    """Set ``deploy=True`` in ``cfg.model`` for each fused part the config still builds in its
    training form; return the settings made (``['model.backbone.deploy=True']``)."""
    changed = []
    for part in parts:
        node, key = (cfg.model, 'model') if part == '<model>' else (
            cfg.model.get(part), f'model.{part}')
        if not isinstance(node, dict):
            raise ValueError(f'the checkpoint holds a fused {part!r}, but the config\'s model '
                             f'has no {part!r} part: is it the config the checkpoint was '
                             'fused from?')
        if node.get('deploy') is not True:
            node['deploy'] = True
            changed.append(f'{key}.deploy=True')
    return changed


def load_model_strict(runner, config: str) -> None:
    """Make ``runner`` load its checkpoint (``load_from``) with ``strict=True`` when it does,
    at the usual point of ``runner.test()`` / ``train()`` (after ``before_run``, so hooks such as
    EMAHook are ready). A checkpoint that does not fit the model gets an error naming the keys
    and the likely fix instead of a warning in the log."""
    original = runner.load_checkpoint

    def load_checkpoint(filename, *args, **kwargs):
        kwargs['strict'] = True
        try:
            return original(filename, *args, **kwargs)
        except RuntimeError as err:
            text = str(err)
            if 'state_dict' not in text:
                raise
            lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
            summary = '; '.join(ln[:300] for ln in lines[:4])
            raise ValueError(
                f'checkpoint {filename!r} does not fit the model of {config!r}: {summary}. '
                'A fused checkpoint (tools/model_converters/reparameterize.py) loads into the '
                "model built with deploy=True (tools/test.py sets it from the checkpoint's "
                'meta; otherwise pass --cfg-options model.backbone.deploy=True); a training '
                'checkpoint loads into the training form (drop deploy=True). --non-strict '
                'loads only the matching keys, as mmengine does.') from None

    runner.load_checkpoint = load_checkpoint
