"""Export a backbone (deploy form) or a detector / segmentor config to ONNX with dynamic H x W.

    python tools/deployment/export_onnx.py edgenext:small work_dirs/edgenext_s.onnx --verify
    python tools/deployment/export_onnx.py --list    # every FAMILY:ARCH it can export
    python tools/deployment/export_onnx.py --config configs/edgenext/ssdlite_edgenext_s_coco.py \
        --checkpoint CKPT --size 320 320 work_dirs/ssdlite.onnx
    python tools/deployment/test_onnx.py configs/edgenext/ssdlite_edgenext_s_coco.py work_dirs/ssdlite.onnx

Backbones are exported after ``switch_to_deploy()`` (pass --no-deploy to keep the training form);
--verify runs onnxruntime on CPU, compares with PyTorch (max relative error) and times both.
Configs export a deployable model (``mmedge.utils.onnx_export``): single-stage detectors (SSD /
SSDLite, RetinaNet, YOLOX) end with box decoding and NMS (outputs ``boxes`` (N, K, 4), ``scores``
(N, K), ``labels`` (N, K), padded with label -1), segmentors with the label map ``label``
(N, H, W); the input is the config's data_preprocessor output, with dynamic N / H / W. --raw
exports ``model(x, mode='tensor')`` instead (the head's raw maps, for any model).
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmedge.utils.benchmark import build_model_from_config  # noqa: E402
from mmedge.utils.families import variants  # noqa: E402
from mmedge.utils.onnx_export import (DEFAULT_OPSET, export_deployable, export_onnx,  # noqa: E402
                                      verify_onnx)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('model', nargs='?',
                   help='FAMILY:ARCH (a backbone; --list prints them all)')
    p.add_argument('out', nargs='?', help='output .onnx file')
    p.add_argument('--list', action='store_true',
                   help='print every FAMILY:ARCH of the registered families and exit')
    p.add_argument('--config', help='export a whole model config instead')
    p.add_argument('--checkpoint', help='weights to load (config mode)')
    p.add_argument('--size', type=int, nargs=2, default=(224, 224))
    p.add_argument('--opset', type=int, default=DEFAULT_OPSET)
    p.add_argument('--no-deploy', action='store_true')
    p.add_argument('--verify', action='store_true')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--raw', action='store_true',
                   help="config mode: export the raw head tensors (model(x, mode='tensor'))")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        names = [label for label, _, _ in variants(['all'])]
        print('\n'.join(names))
        return names
    if args.config and args.model and not args.out:  # CONFIG given as --config, OUT positional
        args.model, args.out = None, args.model
    if not args.out:
        raise SystemExit('give the output .onnx file: export_onnx.py FAMILY:ARCH OUT '
                         '(or --config CONFIG OUT)')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    if args.config:
        model, inner = build_model_from_config(args.config, args.checkpoint)
        if not args.no_deploy and hasattr(inner.backbone, 'switch_to_deploy'):
            inner.backbone.switch_to_deploy()
        name = args.config
        if not args.raw:
            names = export_deployable(inner, args.out, tuple(args.size), opset=args.opset)
            print(f'exported {name} to {args.out} (outputs: {", ".join(names)})')
            return 0
    else:
        if not args.model:
            raise SystemExit('give FAMILY:ARCH or --config CONFIG')
        if ':' not in args.model:
            raise SystemExit(f'give FAMILY:ARCH, not {args.model!r} (--list prints them)')
        (_, fam, arch), = variants([args.model])
        model = fam.build(arch)
        model.init_weights()
        if not args.no_deploy:
            model.switch_to_deploy()
        name = args.model
    model.eval()
    export_onnx(model, args.out, tuple(args.size), opset=args.opset)
    print(f'exported {name} to {args.out}')
    if args.verify:
        res = verify_onnx(model, args.out, sizes=(tuple(args.size), (250, 330)),
                          threads=args.threads)
        print(json.dumps(res, indent=1))
    return 0


if __name__ == '__main__':
    main()
