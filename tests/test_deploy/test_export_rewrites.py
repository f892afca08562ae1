"""mmseg's Upsample (FPNHead) exports size-agnostic and computes what mmseg computes."""
import pytest
import torch
from conftest import needs_mmseg

pytestmark = needs_mmseg


@pytest.mark.parametrize('mode,align_corners', [('bilinear', False), ('bilinear', True),
                                                ('nearest', None)])
@pytest.mark.parametrize('factor', [2, 4.0])
def test_upsample_forward_equals_mmseg(mode, align_corners, factor):
    """Bit for bit the values of mmseg's size-based forward (integer factors)."""
    from mmseg.models.utils import Upsample

    from mmedge.utils.export_rewrites import trace_safe_upsample
    torch.manual_seed(0)
    up = Upsample(scale_factor=factor, mode=mode, align_corners=align_corners)
    for shape in [(2, 3, 7, 5), (1, 2, 16, 9)]:
        x = torch.randn(shape)
        ref = up(x)
        with trace_safe_upsample():
            got = up(x)
        assert got.shape == ref.shape
        assert torch.equal(got, ref), (mode, align_corners, factor, shape)


def test_trace_safe_upsample_restores_and_keeps_other_forms():
    from mmseg.models.utils import Upsample

    from mmedge.utils.export_rewrites import trace_safe_upsample
    original = Upsample.forward
    x = torch.randn(1, 2, 6, 6)
    fixed, fractional = Upsample(size=(9, 4), mode='bilinear'), Upsample(scale_factor=1.5)
    with trace_safe_upsample():
        assert Upsample.forward is not original
        assert fixed(x).shape[2:] == (9, 4)
        assert fractional(x).shape[2:] == (9, 9)  # mmseg's int(6 * 1.5)
    assert Upsample.forward is original


def test_fpn_head_onnx_runs_at_other_sizes(tmp_path):
    """Exported at one size, run at others: FPNHead's logits equal PyTorch's (without the
    rewrite the 2x upsampling keeps the export size and the map is wrong)."""
    ort = pytest.importorskip('onnxruntime')
    from mmseg.models.decode_heads import FPNHead

    from mmedge.utils.onnx_export import onnx_export
    torch.manual_seed(0)
    head = FPNHead(in_channels=[4] * 4, in_index=[0, 1, 2, 3], feature_strides=[4, 8, 16, 32],
                   channels=8, num_classes=3).eval()

    class Wrap(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = head

        def forward(self, a, b, c, d):
            return self.head([a, b, c, d])

    def feats(h, w):
        return tuple(torch.randn(1, 4, h // s, w // s) for s in (4, 8, 16, 32))

    path = str(tmp_path / 'fpn_head.onnx')
    names = ['f0', 'f1', 'f2', 'f3']
    onnx_export(Wrap().eval(), feats(64, 64), path, input_names=names, opset_version=11,
                dynamic_axes={n: {2: 'h', 3: 'w'} for n in names})
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    for h, w in [(64, 64), (128, 96), (32, 64)]:
        inputs = feats(h, w)
        with torch.no_grad():
            ref = head(list(inputs))
        got = sess.run(None, {n: t.numpy() for n, t in zip(names, inputs)})[0]
        assert got.shape == tuple(ref.shape), (h, w)
        assert float((torch.from_numpy(got) - ref).abs().max()) < 1e-4, (h, w)


def test_softmax_nms_pre_warning():
    """The guard of mmdeploy's SSD pre-selection: a softmax head with nms_pre below a level's
    anchors is named (with the nms_pre that avoids it); enough nms_pre, or a sigmoid head, not."""
    pytest.importorskip('mmdet')
    from mmdet.models.dense_heads import RetinaHead, SSDHead

    from mmengine.registry import DefaultScope

    from mmedge.utils.export_rewrites import softmax_nms_pre_warning
    with DefaultScope.overwrite_default_scope('mmdet'):  # whatever scope an earlier test left
        _check_softmax_nms_pre_warning(SSDHead, RetinaHead, softmax_nms_pre_warning)


def _check_softmax_nms_pre_warning(SSDHead, RetinaHead, softmax_nms_pre_warning):
    anchors = dict(type='SSDAnchorGenerator', scale_major=False, input_size=300,
                   basesize_ratio_range=(0.15, 0.9), strides=[8, 16, 32, 64, 100, 300],
                   ratios=[[2], [2, 3], [2, 3], [2, 3], [2], [2]])
    head = SSDHead(num_classes=3, anchor_generator=anchors,
                   test_cfg=dict(nms_pre=1000, score_thr=0.02))
    priors = head.num_base_priors  # SSD300: 4 / 6 anchors per position
    sizes = [38, 19, 10, 5, 3, 1]
    scores = [torch.zeros(1, p * head.cls_out_channels, s, s) for p, s in zip(priors, sizes)]
    message = softmax_nms_pre_warning(head, scores)
    assert 'nms_pre=1000' in message and 'model.test_cfg.nms_pre=5776' in message, message
    head.test_cfg['nms_pre'] = 5776
    assert softmax_nms_pre_warning(head, scores) == ''
    retina = RetinaHead(num_classes=3, in_channels=8, test_cfg=dict(nms_pre=10))
    assert retina.use_sigmoid_cls
    assert softmax_nms_pre_warning(retina, [torch.zeros(1, 27, 40, 40)]) == ''
