"""mmedge registries.

``MODELS`` is a child of mmengine's root registry with its own scope, so ``type='mmedge.X'`` resolves
under the ``mmdet``, ``mmseg`` and ``mmpretrain`` default scopes without ``custom_imports``: the prefix
makes mmengine import :mod:`mmedge.registry` and then the modules in ``locations``.

The locations are the backbones and the shared layers, which need only torch / mmengine / mmcv.  The
task heads need mmdet, mmseg or mmpretrain; a name that is not found among the backbones and layers
imports just the head module that defines it (:func:`mmedge.models.heads.load_head`), so looking up
``mmedge.EdgeNeXt`` never imports a task package, and a broken task package only makes its own heads
unavailable.

Inside mmedge never ``MODELS.build()`` an mmedge-only type (builds resolve in the *default* scope's
registry); use class references or ``MODELS.get()``.
"""
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry



class _ModelRegistry(Registry):
    """A :class:`Registry` that imports a task head's module when a name is asked for first."""

    def get(self, key: str):
        obj = super().get(key)
        if obj is None and isinstance(key, str):
            scope, name = self.split_scope_key(key)
            if scope is None or scope == self.scope:
                from mmedge.models.heads import load_head
                if load_head(name) is not None:
                    obj = super().get(key)
        return obj


# Backbones and layers; heads on demand (see above).
MODELS = _ModelRegistry(
    'model',
    parent=MMENGINE_MODELS,
    scope='mmedge',
    locations=['mmedge.models.backbones', 'mmedge.models.layers'])

# Training safeguards (tools/train.py installs them; configs may list them as
# ``custom_hooks=[dict(type='mmedge.NonFiniteGuardHook'), ...]``).
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, scope='mmedge', locations=['mmedge.engine'])
LOOPS = Registry(
    'loop', parent=MMENGINE_LOOPS, scope='mmedge', locations=['mmedge.engine'])

__all__ = ['MODELS', 'HOOKS', 'LOOPS']
