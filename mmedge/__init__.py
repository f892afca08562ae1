"""mmedge: efficient mobile vision backbones for OpenMMLab dense prediction.

Importing :mod:`mmedge` registers no models (they are registered lazily through the ``mmedge``
registry scope: ``type='mmedge.EdgeNeXt'`` in any mmdet / mmseg / mmpretrain config).  It makes
mmengine read local checkpoints through mmedge's restricted loader
(:func:`mmedge.utils.checkpoint.register_checkpoint_loader`), so that ``--resume``, ``load_from``,
``tools/test.py`` and ``init_cfg=Pretrained`` cannot run code from a file, also under mmdet's,
mmseg's and mmpretrain's own tools.  torch's allow-list is left as it is.
"""
from .utils.checkpoint import register_checkpoint_loader
from .version import __version__

register_checkpoint_loader()

__all__ = ['__version__']
