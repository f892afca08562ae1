"""SSD / SSDLite head that also predicts under mmdet 3.3.0."""
from mmdet.models.dense_heads import SSDHead

from mmedge.registry import MODELS

__all__ = ['SSDLiteHead']


@MODELS.register_module()
class SSDLiteHead(SSDHead):
    """mmdet's ``SSDHead`` with the prediction crash of mmdet 3.3.0 fixed.

    ``SSDHead.__init__`` skips ``AnchorHead.__init__``, so it never sets ``self.loss_cls``, but
    ``BaseDenseHead._predict_by_feat_single`` reads ``self.loss_cls.custom_cls_channels`` and every
    ``predict`` / ``val`` / ``test`` fails with ``AttributeError: 'SSDHead' object has no attribute
    'loss_cls'``.  SSD's loss is the built-in hard-negative-mined cross entropy of
    ``loss_by_feat_single`` (no loss module), so ``loss_cls`` is ``None`` here and prediction takes
    the softmax branch exactly as mmdet intends.  Arguments are those of ``SSDHead``
    (``use_depthwise=True`` gives SSDLite).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.loss_cls = None
