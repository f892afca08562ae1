"""INT8 post-training static quantization (ONNX Runtime, QDQ) of an exported model.

    python tools/deployment/quantize_onnx.py CONFIG FP32.onnx INT8.onnx [--num-calib 32]
        [--per-tensor] [--method minmax|entropy|percentile] [--evaluate] [--threads 1]

Calibration images are the config's training images passed through its test pipeline and
data_preprocessor (what the deployed model sees); weights are int8 per output channel (unless
--per-tensor), activations uint8; only convolutions and matrix products are quantized (the box
decoding / NMS / label map stay float). --evaluate scores the fp32 and int8 models on the test
set with ``tools/deployment/test_onnx.py``'s loop and prints both metrics and latencies.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction  # noqa: E402

from mmedge.utils.ort_eval import (CalibrationReader, evaluate_onnx,  # noqa: E402
                                   load_config, quantize_int8)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('src', help='fp32 model (tools/deployment/export_onnx.py --config)')
    p.add_argument('dst', help='int8 model to write')
    p.add_argument('--num-calib', type=int, default=32, help='calibration images')
    p.add_argument('--per-tensor', action='store_true', help='one weight scale per tensor')
    p.add_argument('--method', default='minmax', choices=['minmax', 'entropy', 'percentile'])
    p.add_argument('--op-types', nargs='+', default=['Conv', 'MatMul', 'Gemm'])
    p.add_argument('--evaluate', action='store_true', help='score fp32 and int8 on the test set')
    p.add_argument('--max-samples', type=int)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    calib = CalibrationReader(cfg, args.num_calib)
    info = quantize_int8(args.src, args.dst, calib, per_channel=not args.per_tensor,
                         op_types=args.op_types, method=args.method)
    print(f'wrote {args.dst}: {json.dumps(info)}')
    result = dict(quantization=info)
    if args.evaluate:
        for name, path in (('fp32', args.src), ('int8', args.dst)):
            res = evaluate_onnx(cfg, path, threads=args.threads, max_samples=args.max_samples)
            result[name] = dict(metrics=res['onnxruntime'],
                                timing_ms=res['timing_ms']['onnxruntime'])
        print(json.dumps(result, indent=2, default=float))
    return result


if __name__ == '__main__':
    main()
