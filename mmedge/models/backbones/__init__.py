import importlib

from .base import BaseEdgeBackbone

_FAMILIES = ('edgenext', 'edgevit', 'emo', 'efficientvit', 'efficientvit_paper',
             'repnext')

__all__ = ['BaseEdgeBackbone']
for _family in _FAMILIES:
    try:
        _mod = importlib.import_module(f'.{_family}', __name__)
    except ModuleNotFoundError as _err:  # family not written yet
        if _err.name != f'{__name__}.{_family}':
            raise
        continue
    for _name in _mod.__all__:
        globals()[_name] = getattr(_mod, _name)
        __all__.append(_name)
