"""Task heads. Each module needs one downstream package and is imported only when a head is used.

A module's name says what it builds on: ``*_cls_head`` -> mmpretrain, ``*_det_head`` -> mmdet,
``*_seg_head`` -> mmseg.  Every module defines ``__all__`` as a literal list, read here without
importing the module, so that:

* ``from mmedge.models.heads import SSDLiteHead`` and the registry lookup ``mmedge.SSDLiteHead``
  import only ``ssdlite_det_head`` (hence mmdet, and not mmseg / mmpretrain);
* a task package that is absent, or installed but failing to import, makes only its own heads
  unavailable: :func:`load_head` raises an ``ImportError`` naming the package for one of them,
  :func:`import_all` warns naming the package and the heads it skips.  Backbones never depend on it.
"""
import ast
import importlib
import importlib.util
import os.path as osp
import pkgutil
import sys
import traceback
import warnings
from typing import Dict, List, Optional, Tuple

_NEEDS = {'_cls_head': 'mmpretrain', '_det_head': 'mmdet', '_seg_head': 'mmseg'}
# what a task package's import failure may come from
_STACK = ('mmdet', 'mmseg', 'mmpretrain', 'mmcv', 'mmengine')


def _module_all(path: str) -> List[str]:
    """The literal ``__all__`` of a source file, without importing it."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '__all__'
                for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise ImportError(f'{path} defines no literal __all__: every mmedge head '
                      f'module lists its heads in __all__ = [...]')


def _build_index() -> Dict[str, Tuple[str, str]]:
    """``{head name: (module name, package it needs)}`` of every head module here."""
    index = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        needs = [pkg for suffix, pkg in _NEEDS.items()
                 if info.name.endswith(suffix)]
        if not needs:
            raise ImportError(
                f'mmedge.models.heads.{info.name}: a head module name ends with '
                f'one of {sorted(_NEEDS)} (the package it builds on)')
        for name in _module_all(osp.join(__path__[0], f'{info.name}.py')):
            index[name] = (info.name, needs[0])
    return index


_INDEX = _build_index()
_FAILED: Dict[str, ImportError] = {}  # head module -> why it cannot be imported in this process
__all__ = sorted(_INDEX)


def heads_of(package: str) -> List[str]:
    """The heads that need ``package`` (e.g. ``'mmdet'``)."""
    return sorted(n for n, (_, pkg) in _INDEX.items() if pkg == package)


def _package_dir(package: str) -> Optional[str]:
    mod = sys.modules.get(package)
    path = getattr(mod, '__file__', None)
    if path:
        return osp.dirname(osp.abspath(path))
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    locs = list(spec.submodule_search_locations or []) if spec else []
    return osp.abspath(locs[0]) if locs else None


def _culprit(err: BaseException, package: str) -> Optional[str]:
    """The package that ``err`` (raised importing a head module) comes from, or None for mmedge.

    Usually ``package`` itself; another one of the OpenMMLab stack when ``package`` fails because
    that one does (mmseg imports mmdet, everything imports mmcv).
    """
    suspects = [package] + [p for p in _STACK if p != package]
    if isinstance(err, ModuleNotFoundError) and err.name:
        for pkg in suspects:
            if err.name == pkg or err.name.startswith(pkg + '.'):
                return pkg
    frames = [osp.abspath(f.filename)
              for f in traceback.extract_tb(err.__traceback__)]
    dirs = {pkg: _package_dir(pkg) for pkg in suspects}
    for path in reversed(frames):  # the innermost frame inside one of them
        for pkg, pkg_dir in dirs.items():
            if pkg_dir and path.startswith(pkg_dir + osp.sep):
                return pkg
    return None


def _import_module(module: str, package: str):
    """Import a head module; an ImportError naming ``package`` when that package is the cause."""
    heads = ', '.join(n for n, (m, _) in sorted(_INDEX.items()) if m == module)
    if importlib.util.find_spec(package) is None:
        raise ImportError(
            f'mmedge heads {heads} need {package}, which is not installed '
            f'(pip install {package}; the tested version is in '
            f'tools/constraints.txt)')
    if module in _FAILED:  # a failed import is not retried: a second try may half-succeed
        raise _FAILED[module]
    try:
        return importlib.import_module(f'.{module}', __name__)
    except Exception as err:  # noqa: BLE001  (a broken package raises anything)
        culprit = _culprit(err, package)
        if culprit is None:
            raise  # a bug in mmedge's head module itself
        through = '' if culprit == package else f', because {culprit} does'
        failure = ImportError(
            f'mmedge heads {heads} need {package}, which is installed but fails '
            f'to import{through} ({type(err).__name__}: {err}); repair or '
            f'reinstall {culprit}. The mmedge backbones do not need it.')
        failure.__cause__ = err
        _FAILED[module] = failure
        raise failure from err


def load_head(name: str):
    """The head class ``name`` (importing its module), or None when no mmedge head has that name.

    Raises:
        ImportError: the head's task package is absent or fails to import (the message names it).
    """
    if name not in _INDEX:
        return None
    module, package = _INDEX[name]
    return getattr(_import_module(module, package), name)


def import_all() -> Dict[str, type]:
    """Import every head whose task package works; one warning per broken package (absent: silent).

    Returns:
        dict: ``{name: class}`` of the heads imported.
    """
    loaded = {}
    for package in sorted({pkg for _, pkg in _INDEX.values()}):
        if importlib.util.find_spec(package) is None:
            continue
        failed, cause = [], None
        for module in sorted({m for m, pkg in _INDEX.values() if pkg == package}):
            try:
                mod = _import_module(module, package)
            except ImportError as err:
                if err.__cause__ is None:
                    raise
                cause = cause or err.__cause__
                failed += [n for n, (m, _) in sorted(_INDEX.items()) if m == module]
                continue
            for name in mod.__all__:
                loaded[name] = getattr(mod, name)
        if failed:
            culprit = _culprit(cause, package) or package
            through = '' if culprit == package else f' because {culprit} does'
            warnings.warn(
                f'mmedge: {package} fails to import{through} ({type(cause).__name__}: '
                f'{cause}); the mmedge heads {", ".join(failed)} are unavailable. '
                f'The backbones and the other heads are not affected.',
                stacklevel=2)
    return loaded


def __getattr__(name: str):
    if name in _INDEX:
        return load_head(name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
