"""The DeepLabv3 head of Apple's ml-cvnets (MobileViT), used by EdgeNeXt's segmentation."""
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads import ASPPHead

from mmedge.registry import MODELS

__all__ = ['MobileViTASPPHead']


@MODELS.register_module()
class MobileViTASPPHead(ASPPHead):
    """mmseg's ``ASPPHead`` with the 1x1 projection of ml-cvnets' DeepLabv3.

    EdgeNeXt's DeepLabv3 results were produced in Apple's `ml-cvnets
    <https://github.com/apple/ml-cvnets>`_ (``cvnets/modules/aspp_block.py``), "following
    MobileViT". Its ASPP concatenates a 1x1 branch, three dilated 3x3 branches and image
    pooling (all conv + BN + ReLU, like mmseg's) and projects the ``5 * channels`` maps with a
    **1x1** conv + BN + ReLU, where mmseg's ``ASPPHead`` uses a 3x3 conv. That difference is
    ``45 * channels**2`` parameters (0.74M at 128 channels, 2.9M at 256): with the 1x1
    projection, 128 channels and EdgeNeXt-S, the segmentor has the 6.5M parameters of the
    EdgeNeXt paper's Table 5; with mmseg's head it has 7.2M.

    Arguments are those of :class:`mmseg.models.decode_heads.ASPPHead`
    (ml-cvnets: ``dilations=(1, 6, 12, 18)``). ml-cvnets applies dropout 0.1 both after the
    projection and before the classifier; here ``dropout_ratio`` (before the classifier) is
    the only one.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # official (ml-cvnets ASPP.project): 1x1 conv 5C -> C + norm + act
        self.bottleneck = ConvModule(
            (len(self.aspp_modules) + 1) * self.channels,
            self.channels,
            1,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
