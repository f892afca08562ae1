"""Export detection / segmentation configs through mmdeploy 1.3.1 and compare ONNX Runtime with
PyTorch on the generated toy sets (same weights, same test loop and evaluator).

    python tools/deployment/mmdeploy_parity.py [--families emo edgevit edgenext efficientvit]
        [--tasks det seg] [--max-samples 16] [--out work_dirs/mmdeploy_parity.json]
        [--checkpoint TASK:FAMILY=PATH ...] [--export-shape W H] [--cfg-options KEY=VALUE ...]

mmdeploy is not a dependency of mmedge (it pins protobuf / onnx versions that would break the
stack); install it into a virtualenv of its own:

    python -m venv --system-site-packages /tmp/venv-deploy
    /tmp/venv-deploy/bin/pip install -c tools/constraints.txt --no-deps mmdeploy==1.3.1 aenum
    /tmp/venv-deploy/bin/python tools/deployment/mmdeploy_parity.py

The pip wheel ships neither mmdeploy's ``tools/deploy.py`` nor its deploy configs, so this
script calls the same API (``mmdeploy.apis.torch2onnx``) with the deploy configs in
``tools/deployment/mmdeploy_configs/`` (mmdeploy's ONNX Runtime dynamic-shape settings; loading
one imports ``mmedge.utils.mmdeploy_rewriters``: mmseg's FPN upsampling by scale factor, the
rewriter-context exit on this torch, the SSD pre-selection warning). torch >= 2.9 exports with
the dynamo exporter by default, which mmdeploy's rewriters do not support (``No module named
'onnxscript'``): the export runs inside :func:`torchscript_onnx_export`, which makes
``dynamo=False`` the default of ``torch.onnx.export`` for the duration of the call.

For every pair: the config is retargeted to the toy data (``mmedge.utils.ort_eval.toy_config``),
a fixed-seed model with spread classifier scores (or ``--checkpoint TASK:FAMILY=PATH``) is saved
as a checkpoint, mmdeploy exports it (traced at ``--export-shape`` if given; the graph is
dynamic), and both PyTorch and ONNX Runtime are scored; the report gives the metric of both, and
the share of pixels (seg) / of PyTorch's best 20 detections per image (det, same label, IoU >=
0.99, score within 1e-3) on which they agree.
"""
import argparse
import contextlib
import functools
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_CFG_DIR = osp.join(ROOT, 'tools', 'deployment', 'mmdeploy_configs')
DEPLOY_CFG = dict(det=osp.join(_CFG_DIR, 'detection_onnxruntime_dynamic.py'),
                  seg=osp.join(_CFG_DIR, 'segmentation_onnxruntime_dynamic.py'))
# one detection and one segmentation config per attention family: EMO and EdgeViT call
# F.scaled_dot_product_attention, EdgeNeXt has its transposed (XCA) attention, EfficientViT
# its ReLU linear attention
PAIRS = {
    'emo': dict(det='retinanet_emo_1m_coco', seg='deeplabv3_emo_1m_ade20k'),
    'edgevit': dict(det='retinanet_edgevit_xxs_coco', seg='fpn_edgevit_xxs_ade20k'),
    'edgenext': dict(det='ssdlite_edgenext_s_coco', seg='deeplabv3_edgenext_s_voc'),
    'efficientvit': dict(det='yolox_efficientvit_b1-r512_coco',
                         seg='efficientvitseg_efficientvit_b1_cityscapes'),
}
SCALE = dict(det=(320, 320), seg=(256, 256))  # toy images are 256 x 256


@contextlib.contextmanager
def torchscript_onnx_export():
    """``torch.onnx.export`` defaults to ``dynamo=False`` inside the block (restored after)."""
    original = torch.onnx.export

    @functools.wraps(original)
    def export(*args, **kwargs):
        kwargs.setdefault('dynamo', False)
        return original(*args, **kwargs)

    torch.onnx.export = export
    try:
        yield
    finally:
        torch.onnx.export = original


def mmdeploy_available():
    try:
        import mmdeploy.apis  # noqa: F401
    except ImportError as exc:
        return False, str(exc)
    return True, ''


def _adapt(task):
    """mmdeploy's outputs -> ours: ``dets (N, K, 5), labels`` / ``output (N, 1, H, W)``."""
    if task == 'det':
        def adapt(outputs):
            dets, labels = outputs[:2]
            return [dets[..., :4], dets[..., 4], labels]
    else:
        def adapt(outputs):
            return [outputs[0][:, 0]]
    return adapt


def _agreement(task, ref, got):
    from mmedge.utils.deploy_parity import match_detections, pixels_agree
    if task == 'seg':
        return dict(pixels_agree=pixels_agree(ref, got))
    # PyTorch's best 20 detections per image (score >= 0.05) that ONNX Runtime reproduces
    # (same label, IoU >= 0.99, score within 1e-3)
    share, total = match_detections(ref, got, min_score=0.05)
    return dict(detections_agree=share, detections=total)


def run_pair(family, task, config, work_dir, checkpoint=None, max_samples=None, threads=1,
             toy_root=None, export_shape=None, cfg_options=None):
    from mmdeploy.apis import torch2onnx
    from mmengine.config import Config

    from mmedge.utils.deploy_parity import spread_scores
    from mmedge.utils.mim import find_config
    from mmedge.utils.ort_eval import (OrtSession, build_model, evaluate, load_config,
                                       ort_predictor, pytorch_predictor, toy_config)
    cfg = load_config(toy_config(find_config(config), SCALE[task], root=toy_root),
                      cfg_options)
    os.makedirs(work_dir, exist_ok=True)
    if checkpoint is None:
        torch.manual_seed(0)
        model = build_model(cfg)
        # a fixed-seed head scores everything alike (nothing passes RetinaNet's score_thr,
        # argmax decided by rounding): scale its classifier so that its scores spread
        spread_scores(model, SCALE[task][::-1])
        checkpoint = osp.join(work_dir, f'{config}_seed0.pth')
        torch.save({'state_dict': model.state_dict()}, checkpoint)
    model = build_model(cfg, checkpoint)
    cfg_path = osp.join(work_dir, f'{config}_toy.py')
    cfg.dump(cfg_path)
    ds = cfg.test_dataloader.dataset
    img_dir = osp.join(ds.data_root, ds.data_prefix.get('img', ds.data_prefix.get('img_path')))
    img = osp.join(img_dir, sorted(os.listdir(img_dir))[0])
    save = f'{config}_mmdeploy.onnx'
    deploy_cfg = Config.fromfile(DEPLOY_CFG[task])
    if export_shape:  # (w, h) of the traced input; the graph stays dynamic
        deploy_cfg.onnx_config.input_shape = list(export_shape)
    with torchscript_onnx_export():
        torch2onnx(img, work_dir, save, deploy_cfg, Config.fromfile(cfg_path), checkpoint,
                   device='cpu')
    torch.set_num_threads(threads)
    ref, got = [], []
    res = dict(family=family, task=task, config=config,
               export_shape=list(export_shape) if export_shape else None)
    res['pytorch'] = evaluate(cfg, pytorch_predictor(model), max_samples, collect=ref)
    sess = OrtSession(osp.join(work_dir, save), threads)
    res['onnxruntime'] = evaluate(cfg, ort_predictor(cfg, sess, _adapt(task)), max_samples,
                                  collect=got)
    key = 'coco/bbox_mAP' if task == 'det' else 'mIoU'
    res['metric'] = key
    # CocoMetric returns nothing when no box passes score_thr (a fixed-seed RetinaNet)
    for side in ('pytorch', 'onnxruntime'):
        res[side].setdefault(key, float('nan'))
    res['difference'] = res['onnxruntime'][key] - res['pytorch'][key]
    res.update(_agreement(task, ref, got))
    return res


def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--families', nargs='+', default=list(PAIRS), choices=list(PAIRS))
    p.add_argument('--tasks', nargs='+', default=['det', 'seg'], choices=['det', 'seg'])
    p.add_argument('--checkpoint', nargs='+', default=[],
                   help='TASK:FAMILY=PATH weights instead of the fixed-seed model')
    p.add_argument('--max-samples', type=int)
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='overrides of every model config (after the toy retargeting), e.g. '
                   'model.bbox_head.test_cfg.nms_pre=3000')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--export-shape', type=int, nargs=2, metavar=('W', 'H'),
                   help='trace the export at this input size (default: the test pipeline\'s '
                   'size for the first image); evaluation runs the dynamic graph at the test '
                   'pipeline\'s sizes')
    p.add_argument('--work-dir', default='work_dirs/mmdeploy_parity')
    p.add_argument('--out', help='write the results as JSON here')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    ok, why = mmdeploy_available()
    if not ok:
        raise SystemExit(f'mmdeploy is not importable ({why}); install it into a virtualenv, '
                         'see this script\'s docstring')
    ckpts = dict(item.split('=', 1) for item in args.checkpoint)
    rows = []
    for family in args.families:
        for task in args.tasks:
            config = PAIRS[family][task]
            row = run_pair(family, task, config, args.work_dir,
                           ckpts.get(f'{task}:{family}'), args.max_samples, args.threads,
                           export_shape=args.export_shape, cfg_options=args.cfg_options)
            rows.append(row)
            agree = row.get('pixels_agree', row.get('detections_agree'))
            print(f"{family:12s} {task} {config:45s} {row['metric']}: pytorch "
                  f"{row['pytorch'][row['metric']]:.4f} onnxruntime "
                  f"{row['onnxruntime'][row['metric']]:.4f} agree {agree:.4f}"
                  + (f" of {row['detections']} detections" if task == 'det' else ' of the pixels'),
                  flush=True)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=1, default=float)
    return rows


if __name__ == '__main__':
    main()
