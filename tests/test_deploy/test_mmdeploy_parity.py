"""mmdeploy 1.3.1 exports of mmedge models compute what PyTorch computes (optional: mmdeploy
lives in its own virtualenv, see tools/deployment/mmdeploy_parity.py)."""
import os.path as osp
import sys

import pytest
import torch
from conftest import needs_mmdet, needs_mmseg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'deployment'))


def _mmdeploy():
    try:
        import mmdeploy.apis  # noqa: F401
    except ImportError as exc:
        pytest.skip(f'mmdeploy is not importable ({exc}): it needs its own virtualenv '
                    '(python -m venv --system-site-packages; pip install -c '
                    'tools/constraints.txt --no-deps mmdeploy==1.3.1 aenum), see '
                    'tools/deployment/mmdeploy_parity.py and the README')


def test_dynamo_false_default_is_scoped():
    """The export wrapper makes dynamo=False the default only inside the block."""
    import mmdeploy_parity
    original = torch.onnx.export
    seen = {}

    def fake(*args, **kwargs):
        seen.update(kwargs)

    torch.onnx.export = fake
    try:
        with mmdeploy_parity.torchscript_onnx_export():
            torch.onnx.export(None, (), 'x.onnx')
            assert seen == {'dynamo': False}
            torch.onnx.export(None, (), 'x.onnx', dynamo=True)  # an explicit choice stays
            assert seen == {'dynamo': True}
        assert torch.onnx.export is fake
    finally:
        torch.onnx.export = original


@needs_mmseg
@pytest.mark.parametrize('family', ['emo', 'edgevit'])
def test_mmdeploy_sdpa_families_match_pytorch(tmp_path, family):
    """EMO / EdgeViT call F.scaled_dot_product_attention, which mmdeploy rewrites as
    q @ k^T / (scale or sqrt(d)); EdgeViT's Semantic FPN head upsamples with mmseg's Upsample,
    which mmdeploy traces at the export size. Exported at 320 x 224 and run at 256 x 256, the
    label maps of the mmdeploy export must equal PyTorch's."""
    _mmdeploy()
    import mmdeploy_parity
    config = mmdeploy_parity.PAIRS[family]['seg']
    res = mmdeploy_parity.run_pair(family, 'seg', config, str(tmp_path), max_samples=3,
                                   toy_root=str(tmp_path / 'voc') + '/',
                                   export_shape=(320, 224))
    assert res['pixels_agree'] >= 0.999, res
    assert abs(res['difference']) <= 0.3, res


@needs_mmdet
@pytest.mark.parametrize('family,cfg_options', [
    ('edgevit', None),
    # SSDLite: nms_pre >= the anchors of its largest level (2400 at 320 x 320), where mmdeploy's
    # softmax pre-selection (which leaves out the last class) does not apply
    ('edgenext', {'model.test_cfg.nms_pre': 2400}),
])
def test_mmdeploy_detectors_match_pytorch(tmp_path, family, cfg_options):
    """Detection through mmdeploy (its rewriter context needs mmedge's torch.fx registry fix
    to exit): exported at 288 x 352 and run at 320 x 320, the best detections are PyTorch's."""
    _mmdeploy()
    import warnings

    import mmdeploy_parity
    config = mmdeploy_parity.PAIRS[family]['det']
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        res = mmdeploy_parity.run_pair(family, 'det', config, str(tmp_path), max_samples=3,
                                       toy_root=str(tmp_path / 'coco') + '/',
                                       export_shape=(288, 352), cfg_options=cfg_options)
    assert not [w for w in caught if 'pre-selects' in str(w.message)]
    assert res['detections'] >= 40, 'the fixed-seed model should detect something'
    assert res['detections_agree'] >= 0.98, res
    assert abs(res['difference']) <= 0.003, res
