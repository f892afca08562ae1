"""mmedge registries.

``MODELS`` is a child of mmengine's root registry with its own scope, so ``type='mmedge.X'`` resolves
under the ``mmdet``, ``mmseg`` and ``mmpretrain`` default scopes without ``custom_imports``: the prefix
makes mmengine import :mod:`mmedge.registry` and then the modules in ``locations``.

Inside mmedge never ``MODELS.build()`` an mmedge-only type (builds resolve in the *default* scope's
registry); use class references or ``MODELS.get()``.
"""
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

# Backbones, layers and heads.
MODELS = Registry(
    'model',
    parent=MMENGINE_MODELS,
    scope='mmedge',
    locations=['mmedge.models'])

# Training safeguards (tools/train.py installs them; configs may list them as
# ``custom_hooks=[dict(type='mmedge.NonFiniteGuardHook'), ...]``).
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, scope='mmedge', locations=['mmedge.engine'])
LOOPS = Registry(
    'loop', parent=MMENGINE_LOOPS, scope='mmedge', locations=['mmedge.engine'])

__all__ = ['MODELS', 'HOOKS', 'LOOPS']
