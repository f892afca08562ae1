"""mmedge: efficient mobile vision backbones for OpenMMLab dense prediction.

Importing :mod:`mmedge` is cheap: it registers nothing but the safe-checkpoint allow-list (see
:mod:`mmedge.utils.checkpoint`) and mmedge in mmengine's ``MODULE2PACKAGE`` table, so that configs
can inherit ``mmedge::folder/config.py`` (see :mod:`mmedge.utils.mim`).  Models are registered lazily through the ``mmedge`` registry scope
(``type='mmedge.EdgeNeXt'`` in any mmdet / mmseg / mmpretrain config).
"""
from .utils.checkpoint import register_safe_globals
from .utils.mim import register_mim_package
from .version import __version__

# torch>=2.6 loads checkpoints with ``weights_only=True``; mmengine 0.10.7 checkpoints carry a few
# harmless non-tensor types (HistoryBuffer, numpy scalars).  Allow-list exactly those (no callable
# that could run code) so resuming and loading work while the protection stays on.
register_safe_globals()
register_mim_package()

__all__ = ['__version__']
