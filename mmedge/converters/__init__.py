"""Converters from the authors' released checkpoints to mmedge keys.

``CONVERTERS[key](state_dict, keep_head=False) -> state_dict`` (pure, idempotent functions).  Each
module of this package registers its function with ``@register_converter(key)``; every module is
imported here, so a new family's converter is one new file (no list to extend).  A backbone class
names its converter's key in its ``converter`` attribute (see :func:`mmedge.utils.families.families`).
"""
import importlib
import pkgutil

from ._registry import CONVERTERS, register_converter
from ._utils import drop_keys, rename_keys, unwrap

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
    if not _info.name.startswith('_'):
        importlib.import_module(f'.{_info.name}', __name__)

__all__ = ['CONVERTERS', 'register_converter', 'unwrap', 'rename_keys', 'drop_keys']
