"""Write a small learnable dataset in a real on-disk format (COCO, VOC, ADE20K, Cityscapes).

    python tools/misc/generate_toy_data.py coco data/toy_coco [--num-train 48 --num-val 16]
"""
import argparse

from mmedge.datasets import generate_toy_dataset
from mmedge.datasets.toy import FORMATS


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('format', choices=FORMATS)
    parser.add_argument('root', help='output folder (the config data_root)')
    parser.add_argument('--num-train', type=int, default=48)
    parser.add_argument('--num-val', type=int, default=16)
    parser.add_argument('--size', type=int, nargs=2, default=(256, 256),
                        metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--object-size', type=float, nargs=2, default=(0.2, 0.5),
                        metavar=('MIN', 'MAX'),
                        help='shape size range, fraction of the image side')
    parser.add_argument('--max-objects', type=int, default=3)
    parser.add_argument('--max-overlap', type=float, default=0.05,
                        help='largest fraction of a shape hidden behind later ones '
                        '(1: free occlusion)')
    parser.add_argument('--any-colour', action='store_true',
                        help='shapes of any colour (the class is in the shape alone)')
    parser.add_argument('--overwrite', action='store_true')
    return parser.parse_args()


def main():
    args = parse_args()
    info = generate_toy_dataset(args.root, args.format, args.num_train,
                                args.num_val, tuple(args.size), args.seed,
                                args.overwrite, tuple(args.object_size),
                                args.max_objects, args.max_overlap,
                                not args.any_colour)
    print(f'{info["format"]} toy dataset with classes {info["classes"]} '
          f'in {info["root"]}')


if __name__ == '__main__':
    main()
