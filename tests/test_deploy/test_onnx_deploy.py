"""Deployable ONNX exports (NMS / label map in the graph) score like PyTorch in ONNX Runtime.

Each test retargets a real config to generated toy data (``toy_config``), builds a fixed-seed
model, exports it with ``export_deployable`` at one size and evaluates it at another (dynamic
H / W) through the config's test pipeline, data_preprocessor and real evaluator
(``evaluate``), next to PyTorch's ``model.test_step`` in the same loop.
"""
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import needs_mmdet, needs_mmseg

from mmedge.utils.deploy_parity import match_detections as _match
from mmedge.utils.deploy_parity import spread_scores as _spread_scores  # noqa: F401 (test_quantize)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

pytest.importorskip('onnxruntime')
pytest.importorskip('onnx')


@pytest.fixture(scope='module')
def toy_roots(tmp_path_factory):
    base = tmp_path_factory.mktemp('toy')
    return dict(det=str(base / 'coco') + '/', seg=str(base / 'voc') + '/')


def _config(name, root, scale, num_val=4):
    from mmedge.utils.mim import find_config
    from mmedge.utils.ort_eval import load_config, toy_config
    return load_config(toy_config(find_config(name), scale, root=root,
                                  num_train=4, num_val=num_val))


DET_CASES = [
    # config, test scale (w, h), export size (h, w): other than the test size (dynamic H, W)
    ('toy_ssdlite_edgenext_xxs_coco', (160, 160), (128, 96)),
    ('retinanet_edgevit_xxs_coco', (128, 128), (96, 128)),
    ('yolox_efficientvit_b1-r512_coco', (128, 128), (96, 64)),
]


@needs_mmdet
@pytest.mark.parametrize('name,scale,export_size', DET_CASES,
                         ids=[c[0].split('_')[0] for c in DET_CASES])
def test_detector_onnx_matches_pytorch(tmp_path, toy_roots, name, scale, export_size):
    from mmedge.utils.onnx_export import export_deployable
    from mmedge.utils.ort_eval import (OrtSession, build_model, evaluate, ort_predictor,
                                       pytorch_predictor)
    torch.manual_seed(0)
    cfg = _config(name, toy_roots['det'], scale)
    model = build_model(cfg)
    _spread_scores(model, scale[::-1])
    path = str(tmp_path / 'det.onnx')
    assert export_deployable(model, path, export_size) == ['boxes', 'scores', 'labels']
    sess = OrtSession(path)
    ref, got = [], []
    m_pt = evaluate(cfg, pytorch_predictor(model), collect=ref)
    m_ort = evaluate(cfg, ort_predictor(cfg, sess), collect=got)
    share, total = _match(ref, got, min_score=0.05)
    assert total >= 40, 'the test model should detect something'
    assert share >= 0.98, (share, total)
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50'):
        assert abs(m_pt[key] - m_ort[key]) <= 0.003, (key, m_pt[key], m_ort[key])
    # dynamic batch: two images of different content in one call = the single-image results
    x = torch.randn(2, 3, scale[1], scale[0])
    both = sess(x.numpy())
    for i in range(2):
        one = sess(x[i:i + 1].numpy())
        for a, b in zip(both, one):
            np.testing.assert_allclose(a[i], b[0], rtol=1e-4, atol=1e-3)
    boxes, scores, labels = both
    k = model.bbox_head.test_cfg.get('max_per_img', 100)
    assert boxes.shape == (2, k, 4) and scores.shape == (2, k) and labels.shape == (2, k)
    assert (np.diff(scores, axis=1) <= 1e-6).all()  # sorted per image
    assert ((labels >= 0) == (scores > 0)).all()  # padding: label -1, score 0


@needs_mmseg
def test_segmentor_onnx_matches_pytorch(tmp_path, toy_roots):
    from mmedge.utils.onnx_export import export_deployable
    from mmedge.utils.ort_eval import (OrtSession, build_model, evaluate, ort_predictor,
                                       pytorch_predictor)
    torch.manual_seed(0)
    cfg = _config('toy_deeplabv3_emo_1m_voc', toy_roots['seg'], (256, 256))
    model = build_model(cfg)
    _spread_scores(model, (256, 256))
    path = str(tmp_path / 'seg.onnx')
    assert export_deployable(model, path, (96, 128)) == ['label']
    ref, got = [], []
    m_pt = evaluate(cfg, pytorch_predictor(model), collect=ref)
    m_ort = evaluate(cfg, ort_predictor(cfg, OrtSession(path)), collect=got)
    same = sum(int((a.pred_sem_seg.data == b.pred_sem_seg.data).sum()) for a, b in zip(ref, got))
    total = sum(a.pred_sem_seg.data.numel() for a in ref)
    assert same / total >= 0.999, same / total
    assert abs(m_pt['mIoU'] - m_ort['mIoU']) <= 0.3, (m_pt['mIoU'], m_ort['mIoU'])
    # the predicted map covers the original image, with more than one class in it
    assert tuple(got[0].pred_sem_seg.data.shape[1:]) == tuple(got[0].metainfo['ori_shape'])
    assert len(torch.unique(torch.cat([g.pred_sem_seg.data for g in got]))) > 1


def test_nms_eager_matches_onnxruntime(tmp_path):
    """The NMS Function: ONNX NonMaxSuppression in the graph, torchvision eagerly; both agree
    (including images without any box over the threshold)."""
    from mmedge.utils.onnx_export import batched_nms_padded, onnx_export

    class Net(torch.nn.Module):

        def forward(self, boxes, scores, labels):
            return batched_nms_padded(boxes, scores, labels, 0.5, 0.1, 7)

    g = torch.Generator().manual_seed(0)
    xy = torch.rand(3, 40, 2, generator=g) * 50
    boxes = torch.cat([xy, xy + 5 + torch.rand(3, 40, 2, generator=g) * 20], -1)
    scores = torch.rand(3, 40, generator=g)
    scores[1] *= 0.05  # nothing passes score_thr in image 1
    labels = torch.randint(0, 3, (3, 40), generator=g)
    path = str(tmp_path / 'nms.onnx')
    onnx_export(Net(), (boxes[:1], scores[:1], labels[:1]), path,
                input_names=['boxes', 'scores', 'labels'], opset_version=17,
                dynamic_axes={n: {0: 'n', 1: 'p'} for n in ('boxes', 'scores', 'labels')})
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    got = sess.run(None, dict(boxes=boxes.numpy(), scores=scores.numpy(),
                              labels=labels.numpy()))
    ref = Net()(boxes, scores, labels)
    for r, o in zip(ref, got):
        np.testing.assert_allclose(r.numpy(), o, rtol=1e-6)
    assert (got[2][1] == -1).all() and (got[1][1] == 0).all()
    # against mmcv's class-aware batched_nms, image by image
    from mmcv.ops import batched_nms
    for i in (0, 2):
        keep = scores[i] > 0.1
        dets, kept = batched_nms(boxes[i][keep], scores[i][keep], labels[i][keep],
                                 dict(type='nms', iou_threshold=0.5))
        n = min(7, len(kept))
        np.testing.assert_allclose(got[1][i][:n], dets[:n, 4].numpy(), rtol=1e-6)
        np.testing.assert_allclose(got[0][i][:n], dets[:n, :4].numpy(), rtol=1e-6)


@needs_mmdet
def test_export_errors_are_clear():
    from mmedge.utils.onnx_export import wrap_for_export
    with pytest.raises(TypeError, match='single-stage'):
        wrap_for_export(torch.nn.Conv2d(3, 3, 1))
    from mmedge.utils.ort_eval import OrtSession
    with pytest.raises(FileNotFoundError, match='export_onnx.py --config'):
        OrtSession('/nonexistent/model.onnx')
