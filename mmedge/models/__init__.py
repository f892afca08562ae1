"""mmedge models: the backbones and the shared layers (torch / mmengine / mmcv only).

The task heads (:mod:`mmedge.models.heads`) need mmdet, mmseg or mmpretrain; they are imported on
first use (``mmedge.models.SSDLiteHead``, ``from mmedge.models.heads import ...``, or a registry lookup
of ``mmedge.<Head>``), never by ``import mmedge.models``.
"""
import importlib

from .backbones import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403


def __getattr__(name: str):
    if name.startswith('_'):
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    heads = importlib.import_module(f'{__name__}.heads')
    if name == 'heads':
        return heads
    if name in heads.__all__:
        return heads.load_head(name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
