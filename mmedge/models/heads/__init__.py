"""Task heads. Each needs its downstream package and is imported only when that is installed.

A module's name says what it builds on: ``*_cls_head`` -> mmpretrain, ``*_det_head`` -> mmdet,
``*_seg_head`` -> mmseg.  Every module defines ``__all__``.
"""
import importlib
import importlib.util
import pkgutil

_NEEDS = {'_cls_head': 'mmpretrain', '_det_head': 'mmdet', '_seg_head': 'mmseg'}

__all__ = []
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
    _needs = [pkg for suffix, pkg in _NEEDS.items()
              if _info.name.endswith(suffix)]
    if not _needs or importlib.util.find_spec(_needs[0]) is None:
        continue
    _mod = importlib.import_module(f'.{_info.name}', __name__)
    for _name in _mod.__all__:
        globals()[_name] = getattr(_mod, _name)
        __all__.append(_name)
