import importlib
import pkgutil

from .base import BaseEdgeBackbone

__all__ = ['BaseEdgeBackbone']
# every module of this package is a family file (no list to keep): importing it registers its class
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
    if _info.name.startswith('_') or _info.name == 'base':
        continue
    _mod = importlib.import_module(f'.{_info.name}', __name__)
    for _name in _mod.__all__:
        if _name not in globals():
            globals()[_name] = getattr(_mod, _name)
            __all__.append(_name)
