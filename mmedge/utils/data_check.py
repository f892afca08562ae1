"""Prepare and check the datasets a config reads, before the Runner starts.

* A config with a ``toy_data`` entry (``dict(format=..., root=..., ...)``, see
  :func:`mmedge.datasets.generate_toy_dataset`) gets its dataset generated when absent.
* For every dataset in ``{train,val,test}_dataloader``, a missing ``data_root`` / ``ann_file`` /
  image folder raises ``FileNotFoundError`` naming what is missing and the layout the dataset class
  expects, instead of a stack trace from deep inside the dataset class.
"""
import os.path as osp
from typing import Dict, Iterator, List

__all__ = ['prepare_toy_data', 'check_datasets', 'DatasetNotFoundError']

LAYOUTS: Dict[str, str] = {
    'CocoDataset': ('data/coco/\n  annotations/instances_train2017.json\n'
                    '  annotations/instances_val2017.json\n  train2017/*.jpg\n'
                    '  val2017/*.jpg'),
    'VOCDataset': ('data/VOCdevkit/\n  VOC2007/{Annotations,JPEGImages,'
                   'ImageSets/Main/{trainval,test}.txt}\n'
                   '  VOC2012/{Annotations,JPEGImages,ImageSets/Main/'
                   'trainval.txt}'),
    'CityscapesDataset': (
        'data/cityscapes/\n  leftImg8bit/{train,val}/<city>/*_leftImg8bit.png\n'
        '  gtFine/{train,val}/<city>/*_gtFine_labelTrainIds.png (mmseg: made by '
        'mmseg tools/dataset_converters/cityscapes.py)\n'
        '  annotations/instancesonly_filtered_gtFine_{train,val}.json (mmdet: '
        'made by mmdet tools/dataset_converters/cityscapes.py)'),
    'ADE20KDataset': ('data/ade/ADEChallengeData2016/\n'
                      '  images/{training,validation}/*.jpg\n'
                      '  annotations/{training,validation}/*.png'),
    'PascalVOCDataset': (
        'data/VOCdevkit/VOC2012/\n  JPEGImages/*.jpg\n'
        '  SegmentationClass/*.png (+ SegmentationClassAug/ for the SBD '
        'augmented set, made by mmseg tools/dataset_converters/voc_aug.py)\n'
        '  ImageSets/Segmentation/{train,val,aug}.txt'),
    'ImageNet': ('data/imagenet/\n  train/<class>/*.JPEG\n  val/*.JPEG\n'
                 '  meta/{train,val}.txt'),
    'BaseSegDataset': (
        '<data_root>/\n  <data_prefix.img_path>/*<img_suffix>\n'
        '  <data_prefix.seg_map_path>/*<seg_map_suffix> (label maps)\n'
        '  <ann_file> (optional: one file stem per line)'),
}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset a config reads is not on disk."""


def prepare_toy_data(cfg) -> None:
    """Generate the config's ``toy_data`` dataset when it is not there yet."""
    toy = cfg.get('toy_data')
    if not toy:
        return
    from mmedge.datasets import generate_toy_dataset
    toy = dict(toy)
    fmt = toy.pop('format')
    root = toy.pop('root')
    if 'img_size' in toy:
        toy['img_size'] = tuple(toy['img_size'])
    generate_toy_dataset(root, fmt, **toy)


def _leaf_datasets(ds) -> Iterator[dict]:
    if ds is None:
        return
    if isinstance(ds, (list, tuple)):
        for d in ds:
            yield from _leaf_datasets(d)
        return
    if 'datasets' in ds:
        yield from _leaf_datasets(ds['datasets'])
    elif 'dataset' in ds:
        yield from _leaf_datasets(ds['dataset'])
    else:
        yield ds


def _join(root, path):
    if not path:
        return root
    if root and not osp.isabs(path) and '://' not in path:
        return osp.join(root, path)
    return path


def _missing_paths(ds: dict) -> List[str]:
    root = ds.get('data_root') or ''
    wanted = []
    if root:
        wanted.append(root)
    if ds.get('ann_file'):
        wanted.append(_join(root, ds['ann_file']))
    prefix = ds.get('data_prefix') or {}
    if isinstance(prefix, str):
        prefix = dict(img=prefix)
    for value in prefix.values():
        if isinstance(value, str) and value:
            wanted.append(_join(root, value))
    return [p for p in wanted if '://' not in p and not osp.exists(p)]


def check_datasets(cfg) -> None:
    """Raise :class:`DatasetNotFoundError` if a dataset of the config is missing on disk."""
    problems = []
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        for ds in _leaf_datasets(loader.get('dataset')):
            missing = _missing_paths(ds)
            if missing:
                problems.append((split, ds.get('type', '?'), missing))
    if not problems:
        return
    lines = []
    for split, ds_type, missing in problems:
        name = str(ds_type).split('.')[-1]
        lines.append(f'- {split} dataset {name}: missing {", ".join(missing)}')
        layout = LAYOUTS.get(name)
        if layout:
            lines.append('  expected layout:\n    ' +
                         layout.replace('\n', '\n    '))
    raise DatasetNotFoundError(
        'The dataset this config reads is not on disk:\n' + '\n'.join(lines) +
        '\nDownload it (see the mmdet / mmseg dataset docs) and link it '
        'under data/, or point the config at it with --cfg-options '
        'train_dataloader.dataset.data_root=... (and val/test), or try a '
        'toy_* config, whose data is generated automatically.')
