"""A trained det / seg / cls model, fused by tools/model_converters/reparameterize.py, scores the
same metric in tools/test.py as its training checkpoint; tools/test.py loads checkpoints strictly.
"""
import os.path as osp
import sys

import numpy as np
import pytest
from conftest import needs_mmdet, needs_mmpretrain, needs_mmseg

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, osp.join(ROOT, 'tools'))
sys.path.insert(0, osp.join(ROOT, 'tools', 'model_converters'))
sys.path.insert(0, HERE)

from process_state import restored_process_state  # noqa: E402
from tiny_configs import write_cls, write_det, write_seg  # noqa: E402


@pytest.fixture
def tools():
    import reparameterize
    import test as test_tool
    import train as train_tool
    with restored_process_state(threads=1):
        yield train_tool.main, test_tool.main, reparameterize.main


def _outputs(pkl):
    """What each test image got: det scores and boxes, seg label maps, cls class scores."""
    import mmengine
    import numpy as np
    out = []
    for sample in mmengine.load(pkl):
        if 'pred_instances' in sample:
            inst = sample['pred_instances']
            out.append(np.concatenate([np.asarray(inst['scores'])[:, None],
                                       np.asarray(inst['bboxes']) / 128.], axis=1))
        elif 'pred_sem_seg' in sample:
            out.append(np.asarray(sample['pred_sem_seg']['data']))
        else:
            out.append(np.asarray(sample['pred_score']))
    assert out
    return out


def _roundtrip(tmp_path, tools, cfg, ckpt_name, metric, tol, fused_parts):
    from mmedge.utils.checkpoint import safe_load
    train, test, fuse = tools
    work = str(tmp_path / 'work')
    vis = ['--cfg-options', f'visualizer.name=vis_{tmp_path.name}']
    train([cfg, '--work-dir', work, *vis])
    ckpt = osp.join(work, ckpt_name)
    fused = str(tmp_path / 'fused.pth')
    fuse([cfg, ckpt, fused])
    assert safe_load(fused)['meta']['fused'] == fused_parts
    pkl_a, pkl_b = str(tmp_path / 'a.pkl'), str(tmp_path / 'b.pkl')
    before = test([cfg, ckpt, '--work-dir', str(tmp_path / 'test_a'), '--out', pkl_a, *vis])
    # the fused checkpoint's meta makes tools/test.py build the fused parts with deploy=True
    after = test([cfg, fused, '--work-dir', str(tmp_path / 'test_b'), '--out', pkl_b, *vis])
    # and so does the explicit option of the README
    explicit = test([cfg, fused, '--work-dir', str(tmp_path / 'test_c'), *vis,
                     *[f'model.{p}.deploy=True' for p in fused_parts]])
    assert abs(after[metric] - before[metric]) <= tol, (before, after)
    # not only the (small-set) metric: every image's outputs
    for a, b in zip(_outputs(pkl_a), _outputs(pkl_b), strict=True):
        if a.dtype.kind == 'f':
            n = min(len(a), len(b), 20)  # the 20 best detections (sorted by score)
            np.testing.assert_allclose(b[:n], a[:n], rtol=1e-4, atol=1e-4)
        else:
            assert (a == b).mean() >= 0.999
    assert explicit[metric] == after[metric]
    # a training checkpoint into the fused model: stopped, keys and fix named (mmengine's
    # non-strict load would only have logged a warning)
    with pytest.raises(ValueError, match=r'does not fit the model.*deploy=True') as err:
        test([cfg, ckpt, '--work-dir', str(tmp_path / 'test_d'), *vis,
              'model.backbone.deploy=True'])
    assert 'missing' in str(err.value).lower() or 'unexpected' in str(err.value).lower()
    return before, after


@needs_mmdet
def test_fused_detector(tmp_path, tools):
    """SSDLite + EdgeNeXt-XXS (layer scales folded into the pointwise layers)."""
    cfg = write_det(tmp_path, tmp_path / 'data', n=4, epochs=1, ckpt=2, tag=tmp_path.name[-20:])
    before, after = _roundtrip(tmp_path, tools, cfg, 'iter_2.pth', 'coco/bbox_mAP', 1e-3,
                               ['backbone'])
    assert 0. <= before['coco/bbox_mAP'] <= 1.


@needs_mmseg
def test_fused_segmentor(tmp_path, tools):
    """DeepLabv3 + EMO-1M (every BN folded into its convolution)."""
    cfg = write_seg(tmp_path, tmp_path / 'data', n=4, iters=4, ckpt=4, val_interval=4,
                    tag=tmp_path.name[-20:])
    before, after = _roundtrip(tmp_path, tools, cfg, 'iter_4.pth', 'mIoU', 0.01, ['backbone'])
    assert 0. <= before['mIoU'] <= 100.


@needs_mmpretrain
def test_fused_classifier(tmp_path, tools):
    """RepNeXt-M0: re-parameterised backbone and classification head (BN + distillation)."""
    pytest.importorskip('mmpretrain.models')
    cfg = write_cls(tmp_path, tmp_path / 'data', per_class=3, tag=tmp_path.name[-20:],
                    base=osp.join('repnext', 'cls_repnext_m0_in1k.py'))
    _roundtrip(tmp_path, tools, cfg, 'epoch_1.pth', 'accuracy/top1', 0., ['backbone', 'head'])
