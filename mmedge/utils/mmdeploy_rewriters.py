"""mmdeploy function rewriters that keep mmedge's deployable configs dynamic-shape correct.

Importing this module (it needs mmdeploy) registers them; the deploy configs in
``tools/deployment/mmdeploy_configs`` import it through ``custom_imports``, so mmdeploy's
``tools/deploy.py`` and ``mmdeploy.apis.torch2onnx`` pick them up with those configs.

* ``mmseg.models.utils.Upsample.forward`` (the 2x upsampling of ``FPNHead``): mmdeploy 1.3.1
  exports it with the upsampled size of the export input as a constant, so a dynamic-shape
  Semantic FPN graph run at another size is wrong; see :mod:`mmedge.utils.export_rewrites`.
"""
from mmdeploy.core import FUNCTION_REWRITER

from .export_rewrites import upsample_forward


@FUNCTION_REWRITER.register_rewriter(func_name='mmseg.models.utils.Upsample.forward')
def mmseg_upsample__forward(self, x):
    """Upsample by ``scale_factor`` in the graph (same values as mmseg's forward)."""
    ctx = FUNCTION_REWRITER.get_context()
    return upsample_forward(self, x, ctx.origin_func)
