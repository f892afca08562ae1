"""The generated toy datasets are read by the stock mmdet / mmseg dataset classes."""
import json
import os.path as osp

import numpy as np
import pytest
from conftest import needs_mmdet, needs_mmseg

from mmedge.datasets import TOY_CLASSES, generate_toy_dataset

CLASSES = TOY_CLASSES


def test_generation_is_deterministic_and_idempotent(tmp_path):
    a = generate_toy_dataset(str(tmp_path / 'a'), 'coco', 3, 2)
    b = generate_toy_dataset(str(tmp_path / 'b'), 'coco', 3, 2)
    ja = json.load(open(tmp_path / 'a/annotations/instances_train2017.json'))
    jb = json.load(open(tmp_path / 'b/annotations/instances_train2017.json'))
    assert ja == jb and a['classes'] == list(CLASSES)
    mtime = osp.getmtime(tmp_path / 'a/train2017/000000.jpg')
    generate_toy_dataset(str(tmp_path / 'a'), 'coco', 3, 2)  # no rewrite
    assert osp.getmtime(tmp_path / 'a/train2017/000000.jpg') == mtime
    with pytest.raises(ValueError, match='coco'):
        generate_toy_dataset(str(tmp_path / 'c'), 'kitti')


def _hue(rgb):
    import colorsys
    return colorsys.rgb_to_hsv(*(np.asarray(rgb, float) / 255.))[0] * 360.


def test_shape_options(tmp_path):
    """Sizes, overlap and the class hue families are what the arguments say."""
    from mmedge.datasets.toy import PALETTE, _render
    rng = np.random.default_rng(0)
    for _ in range(20):
        img, masks, labels = _render(rng, 128, 128, max_objects=3,
                                     object_size=(0.3, 0.5), max_overlap=0.05,
                                     class_colours=True)
        assert 1 <= len(masks) <= 3
        for m, label in zip(masks, labels):
            ys, xs = np.where(m)
            side = max(np.ptp(ys), np.ptp(xs)) + 1
            assert 0.3 * 128 * 0.6 <= side <= 0.5 * 128 * 1.45  # triangle .. rotated square
            mean = img[m].mean(0)
            d = abs(_hue(mean) - _hue(PALETTE[label])) % 360
            assert min(d, 360 - d) < 30, (label, mean)
    def contact(max_overlap):
        """Pixels of a shape next to another shape (where one is cut by the other)."""
        import cv2
        rng, total = np.random.default_rng(1), 0
        for _ in range(20):
            _, masks, _ = _render(rng, 128, 128, 3, (0.3, 0.5), max_overlap, True)
            for i, m in enumerate(masks):
                grown = cv2.dilate(m.astype(np.uint8), np.ones((3, 3), np.uint8))
                others = np.logical_or.reduce([o for j, o in enumerate(masks) if j != i]
                                              or [np.zeros_like(m)])
                total += int((grown.astype(bool) & others).sum())
        return total

    assert contact(0.) * 10 < contact(1.)
    for bad in (dict(object_size=(0.5, 0.2)), dict(object_size=(0, 0.5)),
                dict(max_objects=0), dict(max_overlap=1.5)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            generate_toy_dataset(str(tmp_path / 'bad'), 'coco', 1, 1, **bad)


@needs_mmdet
def test_coco_read_by_mmdet(tmp_path):
    from mmdet.datasets import CocoDataset
    root = str(tmp_path) + '/'
    generate_toy_dataset(root, 'coco', 4, 2)
    ds = CocoDataset(
        data_root=root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        metainfo=dict(classes=CLASSES),
        pipeline=[],
        test_mode=False)
    assert len(ds) == 4
    info = ds[0]
    assert info['instances'] and osp.isfile(info['img_path'])
    for inst in info['instances']:
        x1, y1, x2, y2 = inst['bbox']
        assert 0 <= x1 < x2 <= 256 and 0 <= y1 < y2 <= 256
        assert 0 <= inst['bbox_label'] < 3 and inst['mask']


@needs_mmdet
def test_voc_and_cityscapes_read_by_mmdet(tmp_path):
    from mmdet.datasets import CityscapesDataset, VOCDataset
    generate_toy_dataset(str(tmp_path / 'voc'), 'voc', 3, 2)
    ds = VOCDataset(
        data_root=str(tmp_path / 'voc/VOCdevkit/'),
        ann_file='VOC2007/ImageSets/Main/test.txt',
        data_prefix=dict(sub_data_root='VOC2007/'),
        metainfo=dict(classes=CLASSES),
        pipeline=[],
        test_mode=True)
    assert len(ds) == 2 and ds[0]['instances']
    generate_toy_dataset(str(tmp_path / 'cs'), 'cityscapes', 3, 2)
    ds = CityscapesDataset(
        data_root=str(tmp_path / 'cs') + '/',
        ann_file='annotations/instancesonly_filtered_gtFine_val.json',
        data_prefix=dict(img='leftImg8bit/val/'),
        metainfo=dict(classes=CLASSES),
        pipeline=[],
        test_mode=True)
    assert len(ds) == 2 and osp.isfile(ds[0]['img_path'])


@needs_mmseg
@pytest.mark.parametrize('fmt', ['ade20k', 'voc', 'cityscapes'])
def test_segmentation_read_by_mmseg(tmp_path, fmt):
    from mmseg.datasets import BaseSegDataset
    from PIL import Image
    root = str(tmp_path)
    generate_toy_dataset(root, fmt, 3, 2)
    kwargs = dict(
        ade20k=dict(
            data_root=osp.join(root, 'ADEChallengeData2016'),
            data_prefix=dict(
                img_path='images/validation',
                seg_map_path='annotations/validation'),
            img_suffix='.jpg',
            seg_map_suffix='.png',
            reduce_zero_label=True,
            metainfo=dict(classes=CLASSES)),
        voc=dict(
            data_root=osp.join(root, 'VOCdevkit/VOC2012'),
            data_prefix=dict(
                img_path='JPEGImages', seg_map_path='SegmentationClass'),
            ann_file='ImageSets/Segmentation/val.txt',
            img_suffix='.jpg',
            seg_map_suffix='.png',
            metainfo=dict(classes=('background', ) + CLASSES)),
        cityscapes=dict(
            data_root=root,
            data_prefix=dict(
                img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
            img_suffix='_leftImg8bit.png',
            seg_map_suffix='_gtFine_labelTrainIds.png',
            metainfo=dict(classes=('background', ) + CLASSES)))[fmt]
    ds = BaseSegDataset(pipeline=[], **kwargs)
    assert len(ds) == 2
    seg = np.array(Image.open(ds[0]['seg_map_path']))
    assert seg.shape == (256, 256)
    assert set(np.unique(seg)) <= {0, 1, 2, 3}
    assert len(np.unique(seg)) >= 2
