"""Convert the authors' released checkpoint of a family into an mmedge checkpoint.

    python tools/model_converters/convert_official.py edgenext edgenext_small.pth out.pth [--keep-head]

The output is tensor-only ``{'state_dict': ...}``: backbone keys under ``backbone.`` (and, with
``--keep-head``, the classifier's ``neck.`` / ``head.`` keys of the mmpretrain config), so it loads with
``init_cfg=dict(type='Pretrained', checkpoint=out.pth, prefix='backbone.')`` or as an mmpretrain
``load_from``.  Note that converting is optional: ``init_cfg`` also takes the original file.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402

from mmedge.converters import unwrap  # noqa: E402
from mmedge.utils.checkpoint import safe_load  # noqa: E402
from mmedge.utils.families import converter_families, get_converter  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('family', choices=sorted(converter_families()))
    parser.add_argument('src', help='the authors\' checkpoint')
    parser.add_argument('dst', help='where to write the mmedge checkpoint')
    parser.add_argument(
        '--keep-head',
        action='store_true',
        help='also convert the classifier (for mmpretrain ImageClassifier)')
    return parser.parse_args(argv)


def convert_file(family, src, dst, keep_head=False):
    convert = get_converter(family)  # a clear error for an unknown family
    state = unwrap(safe_load(src))
    converted = convert(state, keep_head=keep_head)
    if not keep_head:
        converted = {f'backbone.{k}': v for k, v in converted.items()}
    converted = {k: v.contiguous() for k, v in converted.items()}
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    torch.save({'state_dict': converted}, dst)
    return converted


def main(argv=None):
    args = parse_args(argv)
    converted = convert_file(args.family, args.src, args.dst, args.keep_head)
    print(f'{len(converted)} tensors written to {args.dst}')


if __name__ == '__main__':
    main()
