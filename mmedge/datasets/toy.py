"""Small, learnable datasets written in the real on-disk formats (no downloads).

Each image is a textured background with one to a few filled shapes (circle, square, triangle) of
random size, position and rotation. By default each class keeps its own hue family on a greyish
background and shapes barely overlap, which makes a set that small detectors and segmentors learn
within minutes on a CPU (see the README's learnability benchmark); ``class_colours=False``,
``max_overlap=1`` and smaller ``object_size`` give a harder set (any colour, free occlusion). Boxes /
masks / label maps are computed after occlusion. The formats are the ones the stock mmdet / mmseg
dataset classes read:

* ``coco``: ``annotations/instances_{train,val}2017.json`` (boxes + polygon masks),
  ``{train,val}2017/*.jpg``
* ``voc``: ``VOCdevkit/VOC{2007,2012}/{JPEGImages,Annotations,SegmentationClass,ImageSets/{Main,
  Segmentation}}``; 2007 has ``trainval`` / ``test``, 2012 has ``trainval`` and ``train`` / ``val``
  segmentation splits (VOC07+12 detection, VOC12 segmentation)
* ``ade20k``: ``ADEChallengeData2016/{images,annotations}/{training,validation}`` (label 0 = "other",
  shapes 1..K, read with ``reduce_zero_label=True``)
* ``cityscapes``: ``leftImg8bit/{train,val}/<city>/*_leftImg8bit.png`` and
  ``gtFine/{train,val}/<city>/*_gtFine_{labelTrainIds,labelIds,instanceIds}.png``, polygons json
  (trainId 0 = background, 1..K = the shapes) and, for instance segmentation,
  ``annotations/instancesonly_filtered_gtFine_{train,val}.json`` as mmdet's converter writes it

Usage::

    from mmedge.datasets import generate_toy_dataset
    generate_toy_dataset('data/toy_coco', 'coco', num_train=48, num_val=16)

or ``python tools/misc/generate_toy_data.py coco data/toy_coco``.
"""
import contextlib
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import numpy as np

__all__ = ['TOY_CLASSES', 'generate_toy_dataset', 'FORMATS']

TOY_CLASSES = ('circle', 'square', 'triangle')
FORMATS = ('coco', 'voc', 'ade20k', 'cityscapes')
# A fixed colour per class for the label-map palettes.
PALETTE = [(220, 20, 60), (0, 130, 200), (60, 180, 75)]


def _texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth colour gradient plus blurred noise: a background that is not a flat colour."""
    import cv2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(40, 200, size=3)
    grad = rng.uniform(-60, 60, size=(2, 3))
    img = base + (yy[..., None] / h) * grad[0] + (xx[..., None] / w) * grad[1]
    noise = rng.normal(0, 25, size=(h // 4 + 1, w // 4 + 1, 3)).astype(
        np.float32)
    noise = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    img = img + noise + rng.normal(0, 6, size=(h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def _draw_shape(rng, h, w, label, object_size) -> np.ndarray:
    """A binary mask of one shape of class ``label`` at a random place and size."""
    import cv2
    mask = np.zeros((h, w), np.uint8)
    size = int(rng.uniform(*object_size) * min(h, w))
    cx = int(rng.uniform(size * 0.6, w - size * 0.6))
    cy = int(rng.uniform(size * 0.6, h - size * 0.6))
    if TOY_CLASSES[label] == 'circle':
        cv2.circle(mask, (cx, cy), size // 2, 1, -1)
    elif TOY_CLASSES[label] == 'square':
        angle = rng.uniform(0, 90)
        box = cv2.boxPoints(((cx, cy), (size, size), angle))
        cv2.fillPoly(mask, [np.round(box).astype(np.int32)], 1)
    else:
        r = size / 1.6
        a0 = rng.uniform(0, 2 * np.pi)
        pts = [(cx + r * np.cos(a0 + k * 2 * np.pi / 3),
                cy + r * np.sin(a0 + k * 2 * np.pi / 3)) for k in range(3)]
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask


def _class_colour(rng, label) -> np.ndarray:
    """A saturated RGB colour within +-25 degrees of the class's palette hue."""
    import colorsys
    r, g, b = (c / 255. for c in PALETTE[label])
    hue = colorsys.rgb_to_hsv(r, g, b)[0] + rng.uniform(-25, 25) / 360.
    rgb = colorsys.hsv_to_rgb(hue % 1., rng.uniform(0.6, 1.), rng.uniform(0.6, 1.))
    return np.array(rgb) * 255.


def _render(rng, h, w, max_objects, object_size, max_overlap, class_colours):
    """Image, per-instance masks (after occlusion) and their labels."""
    img = _texture(rng, h, w)
    if class_colours:  # a greyish background, so that the colour cue is the shapes'
        img = (0.3 * img + 0.7 * img.mean(2, keepdims=True)).astype(np.uint8)
    n = int(rng.integers(1, max_objects + 1))
    owner = np.full((h, w), -1, np.int32)
    labels = []
    for _ in range(n):
        label = int(rng.integers(len(TOY_CLASSES)))
        for _attempt in range(20):  # a place where it hides little of the others
            mask = _draw_shape(rng, h, w, label, object_size).astype(bool)
            if (owner[mask] >= 0).mean() <= max_overlap:
                break
        else:
            continue  # no room left for it
        # keep shapes visibly different from the background they cover
        around = img[mask].mean(0)
        if class_colours:
            colour = _class_colour(rng, label)
            if np.abs(colour - around).sum() < 120 and around.mean() > 128:
                colour = colour * 0.45  # darker on a light background, same hue
        else:
            colour = rng.uniform(0, 255, size=3)
            if np.abs(colour - around).sum() < 120:
                colour = 255 - around
        shade = rng.normal(0, 8, size=(int(mask.sum()), 3))
        img[mask] = np.clip(colour + shade, 0, 255).astype(np.uint8)
        owner[mask] = len(labels)
        labels.append(label)
    masks, keep = [], []
    for i, label in enumerate(labels):
        m = owner == i
        if m.sum() >= 16:  # fully hidden shapes are dropped
            masks.append(m)
            keep.append(label)
    return img, masks, keep


def _bbox(mask) -> Tuple[float, float, float, float]:
    ys, xs = np.where(mask)
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(
        ys.max() + 1)


def _polygons(mask) -> List[List[float]]:
    import cv2
    contours, _ = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polys = [c.reshape(-1).astype(float).tolist() for c in contours
             if len(c) >= 3]
    return polys


def _write_image(path, img):
    import cv2
    os.makedirs(osp.dirname(path), exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if path.endswith('.jpg') else []
    if not cv2.imwrite(path, img[..., ::-1], params):
        raise OSError(f'could not write {path}')


def _write_png(path, arr, palette=False):
    from PIL import Image
    os.makedirs(osp.dirname(path), exist_ok=True)
    im = Image.fromarray(arr.astype(np.uint8), mode='L' if not palette else 'P')
    if palette:
        pal = [0, 0, 0] + [c for rgb in PALETTE for c in rgb]
        pal += [0] * (768 - len(pal))
        pal[255 * 3:255 * 3 + 3] = [224, 224, 192]  # VOC's "void" colour
        im.putpalette(pal)
    im.save(path)


def _samples(seed, n, h, w, **shapes):
    rng = np.random.default_rng(seed)
    for i in range(n):
        yield i, _render(rng, h, w, **shapes)


# ---------------------------------------------------------------------------- formats
def _coco_json(records) -> dict:
    """COCO instances dict from ``[(file_name, h, w, masks, labels), ...]``."""
    categories = [dict(id=i + 1, name=c, supercategory='shape')
                  for i, c in enumerate(TOY_CLASSES)]
    images, annotations = [], []
    for image_id, (file_name, h, w, masks, labels) in enumerate(records, 1):
        images.append(dict(id=image_id, file_name=file_name, height=h, width=w))
        for m, label in zip(masks, labels):
            polys = _polygons(m)
            if not polys:
                continue
            x1, y1, x2, y2 = _bbox(m)
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=image_id,
                    category_id=label + 1,
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    area=float(m.sum()),
                    segmentation=polys,
                    iscrowd=0))
    return dict(images=images, annotations=annotations, categories=categories)


def _dump_json(path, obj):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f)


def _write_coco(root, splits, h, w, seed, **shapes):
    for s_idx, (split, n) in enumerate(splits.items()):
        records = []
        for i, (img, masks, labels) in _samples(seed + s_idx, n, h, w, **shapes):
            file_name = f'{i:06d}.jpg'
            _write_image(osp.join(root, f'{split}2017', file_name), img)
            records.append((file_name, h, w, masks, labels))
        _dump_json(
            osp.join(root, 'annotations', f'instances_{split}2017.json'),
            _coco_json(records))


def _voc_xml(file_stem, h, w, masks, labels) -> str:
    objs = []
    for m, label in zip(masks, labels):
        x1, y1, x2, y2 = _bbox(m)
        # VOC boxes are 1-based inclusive pixel indices
        objs.append(
            f'  <object>\n    <name>{TOY_CLASSES[label]}</name>\n'
            f'    <pose>Unspecified</pose>\n    <truncated>0</truncated>\n'
            f'    <difficult>0</difficult>\n    <bndbox>\n'
            f'      <xmin>{int(x1) + 1}</xmin>\n      <ymin>{int(y1) + 1}</ymin>\n'
            f'      <xmax>{int(x2)}</xmax>\n      <ymax>{int(y2)}</ymax>\n'
            f'    </bndbox>\n  </object>\n')
    return (f'<annotation>\n  <folder>VOC</folder>\n'
            f'  <filename>{file_stem}.jpg</filename>\n'
            f'  <size>\n    <width>{w}</width>\n    <height>{h}</height>\n'
            f'    <depth>3</depth>\n  </size>\n  <segmented>1</segmented>\n'
            + ''.join(objs) + '</annotation>\n')


def _write_voc(root, splits, h, w, seed, **shapes):
    n_train, n_val = splits['train'], splits['val']
    for y_idx, year in enumerate(('2007', '2012')):
        base = osp.join(root, 'VOCdevkit', f'VOC{year}')
        stems = {'train': [], 'val': []}
        for split, n in (('train', n_train), ('val', n_val)):
            if year == '2012' and split == 'val' and n == 0:
                continue
            for i, (img, masks, labels) in _samples(
                    seed + 10 * y_idx + (split == 'val'), n, h, w, **shapes):
                stem = f'{year}_{split}_{i:06d}'
                stems[split].append(stem)
                _write_image(osp.join(base, 'JPEGImages', stem + '.jpg'), img)
                os.makedirs(osp.join(base, 'Annotations'), exist_ok=True)
                with open(osp.join(base, 'Annotations', stem + '.xml'),
                          'w') as f:
                    f.write(_voc_xml(stem, h, w, masks, labels))
                seg = np.zeros((h, w), np.uint8)
                for m, label in zip(masks, labels):
                    seg[m] = label + 1
                _write_png(
                    osp.join(base, 'SegmentationClass', stem + '.png'),
                    seg,
                    palette=True)
        main = osp.join(base, 'ImageSets', 'Main')
        segs = osp.join(base, 'ImageSets', 'Segmentation')
        os.makedirs(main, exist_ok=True)
        os.makedirs(segs, exist_ok=True)
        lists = {
            osp.join(segs, 'train.txt'): stems['train'],
            osp.join(segs, 'val.txt'): stems['val'],
            osp.join(segs, 'trainval.txt'): stems['train'] + stems['val'],
        }
        if year == '2007':
            lists[osp.join(main, 'trainval.txt')] = stems['train']
            lists[osp.join(main, 'test.txt')] = stems['val']
        else:
            lists[osp.join(main, 'trainval.txt')] = stems['train'] + stems[
                'val']
        for path, items in lists.items():
            with open(path, 'w') as f:
                f.write(''.join(s + '\n' for s in items))


def _write_ade20k(root, splits, h, w, seed, **shapes):
    base = osp.join(root, 'ADEChallengeData2016')
    for s_idx, (split, sub) in enumerate((('train', 'training'),
                                          ('val', 'validation'))):
        for i, (img, masks, labels) in _samples(seed + s_idx, splits[split],
                                                h, w, **shapes):
            stem = f'ADE_{sub[:5]}_{i:08d}'
            _write_image(osp.join(base, 'images', sub, stem + '.jpg'), img)
            seg = np.zeros((h, w), np.uint8)  # 0 = "other" (ignored)
            for m, label in zip(masks, labels):
                seg[m] = label + 1
            _write_png(osp.join(base, 'annotations', sub, stem + '.png'), seg)


def _write_cityscapes(root, splits, h, w, seed, **shapes):
    # trainIds: 0 = background class, 1..K = shapes; labelIds use the same values offset by 1
    # (0 stays "unlabeled" in labelIds).
    for s_idx, split in enumerate(('train', 'val')):
        city = 'toycity'
        records = []
        for i, (img, masks, labels) in _samples(seed + s_idx, splits[split],
                                                h, w, **shapes):
            stem = f'{city}_{i:06d}_000019'
            _write_image(
                osp.join(root, 'leftImg8bit', split, city,
                         stem + '_leftImg8bit.png'), img)
            gt = osp.join(root, 'gtFine', split, city, stem + '_gtFine_')
            train_ids = np.zeros((h, w), np.uint8)
            inst = np.zeros((h, w), np.int32)
            objects = []
            for k, (m, label) in enumerate(zip(masks, labels)):
                train_ids[m] = label + 1
                inst[m] = (label + 2) * 1000 + k
                objects.append(
                    dict(label=TOY_CLASSES[label],
                         polygon=[[int(x), int(y)] for x, y in zip(
                             _polygons(m)[0][0::2], _polygons(m)[0][1::2])]))
            _write_png(gt + 'labelTrainIds.png', train_ids)
            _write_png(gt + 'labelIds.png', train_ids + 1)
            import cv2
            cv2.imwrite(gt + 'instanceIds.png', inst.astype(np.uint16))  # 16-bit, as Cityscapes
            with open(gt + 'polygons.json', 'w') as f:
                json.dump(dict(imgHeight=h, imgWidth=w, objects=objects), f)
            records.append((f'{city}/{stem}_leftImg8bit.png', h, w, masks,
                            labels))
        # what mmdet's CityscapesDataset reads (tools/dataset_converters/cityscapes.py output)
        _dump_json(
            osp.join(root, 'annotations',
                     f'instancesonly_filtered_gtFine_{split}.json'),
            _coco_json(records))


_WRITERS = {
    'coco': _write_coco,
    'voc': _write_voc,
    'ade20k': _write_ade20k,
    'cityscapes': _write_cityscapes,
}


def generate_toy_dataset(root: str,
                         fmt: str = 'coco',
                         num_train: int = 48,
                         num_val: int = 16,
                         img_size: Tuple[int, int] = (256, 256),
                         seed: int = 0,
                         overwrite: bool = False,
                         object_size: Tuple[float, float] = (0.2, 0.5),
                         max_objects: int = 3,
                         max_overlap: float = 0.05,
                         class_colours: bool = True) -> Dict[str, str]:
    """Write a toy dataset in a real on-disk format; a no-op when it already exists.

    Args:
        root (str): Output folder (the config's ``data_root``).
        fmt (str): One of ``'coco'``, ``'voc'``, ``'ade20k'``, ``'cityscapes'``.
        num_train (int): Training images. Defaults to 48.
        num_val (int): Validation / test images. Defaults to 16.
        img_size (tuple[int, int]): ``(H, W)``. Defaults to (256, 256).
        seed (int): Random seed (same seed, same data). Defaults to 0.
        overwrite (bool): Regenerate even if ``root`` holds a finished dataset.
        object_size (tuple[float, float]): Range of a shape's size (circle diameter,
            square side) as a fraction of ``min(H, W)``. Defaults to (0.2, 0.5).
        max_objects (int): Shapes drawn per image, 1 to ``max_objects`` (fully
            occluded ones are dropped). Defaults to 3.
        max_overlap (float): Largest fraction of a new shape that may cover earlier
            shapes; a shape is re-placed up to 20 times to meet it, then left out.
            Defaults to 0.05 (1.0: free occlusion).
        class_colours (bool): Draw each class in its own hue family (the palette
            colour +-25 degrees, random saturation and brightness) on a greyish
            background, so colour is a cue besides shape; otherwise shapes take any
            colour on a coloured background (harder: the class is in the shape
            alone). Defaults to True.

    Returns:
        dict: ``root``, ``format`` and ``classes``.
    """
    if fmt not in _WRITERS:
        raise ValueError(f'unknown toy format {fmt!r}; choose one of {FORMATS}')
    if num_train < 1 or num_val < 1:
        raise ValueError('num_train and num_val must be >= 1')
    object_size = tuple(float(v) for v in object_size)
    if not (len(object_size) == 2 and 0 < object_size[0] <= object_size[1] < 1):
        raise ValueError(f'object_size must be (min, max) fractions of the image side '
                         f'with 0 < min <= max < 1, got {object_size}')
    if not 0 <= max_overlap <= 1:
        raise ValueError(f'max_overlap must be in [0, 1], got {max_overlap}')
    if max_objects < 1:
        raise ValueError(f'max_objects must be >= 1, got {max_objects}')
    stamp = osp.join(root, '.toy_dataset.json')
    info = dict(
        root=root,
        format=fmt,
        classes=list(TOY_CLASSES),
        num_train=num_train,
        num_val=num_val,
        img_size=list(img_size),
        seed=seed,
        object_size=list(object_size),
        max_objects=max_objects,
        max_overlap=float(max_overlap),
        class_colours=bool(class_colours))
    os.makedirs(root, exist_ok=True)
    # one writer at a time: the processes of a distributed run all prepare the same set
    with _exclusive(osp.join(root, '.toy_dataset.lock')):
        if not overwrite and osp.isfile(stamp):
            with open(stamp) as f:
                if json.load(f) == info:
                    return info
        h, w = img_size
        _WRITERS[fmt](root, dict(train=num_train, val=num_val), h, w, seed,
                      object_size=object_size, max_objects=max_objects,
                      max_overlap=max_overlap, class_colours=class_colours)
        with open(stamp, 'w') as f:  # written last: marks a finished dataset
            json.dump(info, f)
    return info


@contextlib.contextmanager
def _exclusive(path):
    """An advisory file lock (POSIX); elsewhere no lock."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(path, 'a') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
