"""mmedge: efficient mobile vision backbones for OpenMMLab dense prediction.

Importing :mod:`mmedge` registers no models (they are registered lazily through the ``mmedge``
registry scope: ``type='mmedge.EdgeNeXt'`` in any mmdet / mmseg / mmpretrain config).  It does two
things:

* it makes mmengine read local checkpoints through mmedge's restricted loader
  (:func:`mmedge.utils.checkpoint.register_checkpoint_loader`), so that ``--resume``, ``load_from``,
  ``tools/test.py`` and ``init_cfg=Pretrained`` cannot run code from a file, also under mmdet's,
  mmseg's and mmpretrain's own tools.  torch's allow-list is left as it is;
* it adds mmedge to mmengine's ``MODULE2PACKAGE`` table, so that configs can inherit
  ``mmedge::folder/config.py`` (see :mod:`mmedge.utils.mim`).
"""
from .utils.checkpoint import register_checkpoint_loader
from .utils.mim import register_mim_package
from .version import __version__

register_checkpoint_loader()
register_mim_package()

__all__ = ['__version__']
