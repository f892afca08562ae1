"""Evaluate an exported detector / segmentor with ONNX Runtime on the config's test set.

    python tools/deployment/test_onnx.py CONFIG MODEL.onnx [--checkpoint CKPT] [--threads 1]
        [--max-samples N] [--cfg-options k=v ...] [--out metrics.json]

The config's test pipeline and data_preprocessor prepare each image, the ONNX model (written by
``tools/deployment/export_onnx.py --config``, NMS / label map inside) runs on CPU, boxes are
rescaled to the original image, and the config's ``test_evaluator`` (mmdet's CocoMetric,
mmseg's IoUMetric, ...) scores the predictions, exactly as ``tools/test.py`` does for PyTorch.
With ``--checkpoint`` the PyTorch model of the same config is scored in the same loop and the
difference is printed (``--deploy`` switches its backbone to the fused form first).
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction  # noqa: E402

from mmedge.utils.ort_eval import evaluate_onnx  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('onnx', help='the exported model')
    p.add_argument('--checkpoint', help='also score the PyTorch model with these weights')
    p.add_argument('--deploy', action='store_true',
                   help='PyTorch: switch the backbone to its deploy form first')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--max-samples', type=int, help='first N test images only')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    p.add_argument('--out', help='write the metrics (and timings) as JSON here')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    result = evaluate_onnx(args.config, args.onnx, args.checkpoint, args.deploy,
                           args.threads, args.max_samples, args.cfg_options)
    text = json.dumps(result, indent=2, default=float)
    print(text)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            f.write(text)
    return result


if __name__ == '__main__':
    main()
