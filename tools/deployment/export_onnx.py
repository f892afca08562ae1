"""Export a backbone (deploy form) or a detector / segmentor config to ONNX with dynamic H x W.

    python tools/deployment/export_onnx.py edgenext:small work_dirs/edgenext_s.onnx --verify
    python tools/deployment/export_onnx.py --config configs/emo/deeplabv3_emo_1m_ade20k.py out.onnx
    python tools/deployment/export_onnx.py --list    # every FAMILY:ARCH it can export

Backbones are exported after ``switch_to_deploy()`` (pass --no-deploy to keep the training form);
--verify runs onnxruntime on CPU, compares with PyTorch (max relative error) and times both.
Configs export ``model(x, mode='tensor')`` (raw head outputs, the part mmdet / mmseg can export;
NMS / resizing stay in the runtime).
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmedge.utils.benchmark import build_model_from_config  # noqa: E402
from mmedge.utils.families import variants  # noqa: E402
from mmedge.utils.onnx_export import export_onnx, verify_onnx  # noqa: E402


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
    p.add_argument('--opset', type=int, default=17)
    p.add_argument('--no-deploy', action='store_true')
    p.add_argument('--verify', action='store_true')
    p.add_argument('--threads', type=int, default=1)
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
