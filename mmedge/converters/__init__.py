"""Converters from the authors' released checkpoints to mmedge keys.

``CONVERTERS[family](state_dict, keep_head=False) -> state_dict`` (pure, idempotent functions).
"""
import importlib

from ._utils import drop_keys, rename_keys, unwrap

FAMILIES = ('edgenext', 'edgevit', 'emo', 'efficientvit', 'repnext')

CONVERTERS = {}
for _family in FAMILIES:
    try:
        _mod = importlib.import_module(f'.{_family}', __name__)
    except ModuleNotFoundError as _err:  # family not written yet
        if _err.name != f'{__name__}.{_family}':
            raise
        continue
    CONVERTERS[_family] = getattr(_mod, f'convert_{_family}')

__all__ = ['CONVERTERS', 'FAMILIES', 'unwrap', 'rename_keys', 'drop_keys']
