"""mmedge registries.

``MODELS`` is a child of mmengine's root registry with its own scope, so ``type='mmedge.X'`` resolves
under the ``mmdet``, ``mmseg`` and ``mmpretrain`` default scopes without ``custom_imports``: the prefix
makes mmengine import :mod:`mmedge.registry` and then the modules in ``locations``.

Inside mmedge never ``MODELS.build()`` an mmedge-only type (builds resolve in the *default* scope's
registry); use class references or ``MODELS.get()``.
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

# Backbones, layers and heads.
MODELS = Registry(
    'model',
    parent=MMENGINE_MODELS,
    scope='mmedge',
    locations=['mmedge.models'])

__all__ = ['MODELS']
