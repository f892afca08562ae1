"""The VOC and Cityscapes detection configs on generated data in the real layouts.

* The toy VOC (SSDLite) and toy Cityscapes (Mask R-CNN) configs train for one iteration through
  ``tools/train.py``, generating their data first, as a user runs them.
* Every real VOC07+12 / Cityscapes config's train and test datasets (through RepeatDataset /
  ConcatDataset / MultiImageMixDataset) read the generated layouts and give a sample through
  their pipelines.
"""
import copy
import os.path as osp
import sys

import pytest
import torch
from conftest import config_path, needs_mmdet

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools'))
CLASSES = ('circle', 'square', 'triangle')

pytestmark = needs_mmdet

_QUIET = [
    'log_level=WARNING',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
    'randomness.seed=0',
    'train_cfg.max_epochs=1',
    'default_hooks.checkpoint.interval=1',
    # no validation in this test (tools/test.py is tested on the COCO toy config)
    'val_cfg=None',
    'val_dataloader=None',
    'val_evaluator=None'
]


def _voc_options(root):
    devkit = root + 'VOCdevkit/'
    # VOC2007 trainval (1 image) + VOC2012 trainval (2): one iteration of 3 images; SSDLite's
    # neck has BatchNorms on 1x1 maps, which need more than one image per batch
    return [
        f'toy_data.root={root}', 'toy_data.num_train=1', 'toy_data.num_val=1',
        'toy_data.img_size=(96,96)', 'train_dataloader.batch_size=3',
        f'train_dataloader.dataset.dataset.datasets.0.data_root={devkit}',
        f'train_dataloader.dataset.dataset.datasets.1.data_root={devkit}',
        f'test_dataloader.dataset.data_root={devkit}'
    ]


def _cityscapes_options(root):
    ann_val = root + 'annotations/instancesonly_filtered_gtFine_val.json'
    return [
        f'toy_data.root={root}', 'toy_data.num_train=1', 'toy_data.num_val=1',
        'toy_data.img_size=(64,128)', 'train_dataloader.batch_size=1',
        f'train_dataloader.dataset.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'test_evaluator.ann_file={ann_val}'
    ]


@pytest.mark.parametrize('stem, options', [
    ('toy_ssdlite_edgenext_s_voc', _voc_options),
    ('toy_maskrcnn_repnext_m3_cityscapes', _cityscapes_options),
])
def test_toy_config_trains_one_iteration(stem, options, tmp_path):
    import train as train_tool
    root = str(tmp_path / 'data') + '/'
    work = str(tmp_path / 'work')
    runner = train_tool.main([
        config_path(stem), '--work-dir', work,
        '--cfg-options', *options(root), *_QUIET
    ])
    assert osp.isfile(osp.join(root, '.toy_dataset.json'))
    assert runner.iter == 1 and osp.isfile(osp.join(work, 'epoch_1.pth'))
    losses = runner.message_hub.get_scalar('train/loss').current()
    assert torch.isfinite(torch.tensor(losses))
    assert runner.train_dataloader.dataset.metainfo['classes'] == CLASSES


@pytest.fixture(scope='module')
def toy_roots(tmp_path_factory):
    from mmedge.datasets import generate_toy_dataset
    base = tmp_path_factory.mktemp('toy_det')
    roots = {}
    for fmt in ('voc', 'cityscapes'):
        root = str(base / fmt) + '/'
        generate_toy_dataset(root, fmt, num_train=2, num_val=1)
        roots[fmt] = root + ('VOCdevkit/' if fmt == 'voc' else '')
    return roots


def _point_at(ds, root):
    """Every leaf dataset (through the wrappers) reads ``root`` with the toy classes."""
    if 'datasets' in ds:
        for d in ds['datasets']:
            _point_at(d, root)
    elif 'dataset' in ds:
        _point_at(ds['dataset'], root)
    else:
        ds.update(data_root=root, metainfo=dict(classes=CLASSES))


@pytest.mark.parametrize('stem, fmt', [
    ('ssdlite_edgenext_s_voc', 'voc'),
    ('retinanet_edgevit_xxs_voc', 'voc'),
    ('yolox_efficientvit_b1-r512_voc', 'voc'),
    ('maskrcnn_repnext_m3_cityscapes', 'cityscapes'),
])
def test_real_configs_read_the_layout(stem, fmt, toy_roots, scope):
    from mmdet.registry import DATASETS
    from mmengine.config import Config
    cfg = Config.fromfile(config_path(stem))
    for split in ('train', 'test'):
        ds_cfg = copy.deepcopy(cfg[f'{split}_dataloader'].dataset)
        _point_at(ds_cfg, toy_roots[fmt])
        with scope('mmdet'):
            dataset = DATASETS.build(ds_cfg)
            sample = dataset[0]
        assert len(dataset) >= 1
        img = sample['inputs']
        assert img.ndim == 3 and img.shape[0] == 3
        gt = sample['data_samples'].gt_instances
        assert len(gt.bboxes) >= 1 and int(gt.labels.max()) < len(CLASSES)
        if fmt == 'cityscapes':
            assert len(gt.masks) == len(gt.bboxes)
