"""Prepare and check the datasets a config reads, before the Runner starts.

* A config with a ``toy_data`` entry (``dict(format=..., root=..., ...)``, see
  :func:`mmedge.datasets.generate_toy_dataset`) gets its dataset generated when absent.
* For every dataset in ``{train,val,test}_dataloader``, a missing ``data_root`` / ``ann_file`` /
  image folder raises ``FileNotFoundError`` naming what is missing and the layout the dataset class
  expects, instead of a stack trace from deep inside the dataset class.
* :func:`inspect_datasets` reads every annotation and image header (``full``: decodes every image)
  of the train / val / test sets and reports each fault that would stop training or silently lose
  annotations, with counts and file names (:class:`DataReport`); :func:`check_data_contents`
  raises :class:`DatasetCheckError` on errors (``tools/train.py`` calls it at start,
  ``tools/misc/check_dataset.py`` prints the report). COCO json and VOC xml files are parsed here,
  not by the dataset class, because mmdet drops broken annotations without a word.
"""
import os.path as osp
from typing import Dict, Iterator, List, Optional, Tuple

__all__ = [
    'prepare_toy_data', 'check_datasets', 'DatasetNotFoundError', 'DatasetCheckError',
    'DataReport', 'inspect_datasets', 'check_data_contents'
]

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


# ---------------------------------------------------------------------------- content checks
class DatasetCheckError(ValueError):
    """The dataset a config reads has faults that would break or silently corrupt training."""


class DataReport:
    """Faults found in a config's datasets: ``error`` (stops training) or ``warning``.

    Each fault kind is kept with its count and the first few examples (file names).
    """

    def __init__(self, examples: int = 5):
        self.examples = examples
        self._faults: Dict[tuple, list] = {}
        self._counts: Dict[tuple, int] = {}
        self.checked: List[str] = []

    def add(self, level: str, where: str, what: str, example: str = '') -> None:
        key = (level, where, what)
        self._counts[key] = self._counts.get(key, 0) + 1
        items = self._faults.setdefault(key, [])
        if example and len(items) < self.examples:
            items.append(example)

    def count(self, level: str) -> int:
        return sum(n for (lv, _, _), n in self._counts.items() if lv == level)

    @property
    def errors(self) -> int:
        return self.count('error')

    @property
    def warnings(self) -> int:
        return self.count('warning')

    def faults(self, level: Optional[str] = None) -> List[Tuple[str, str, str, int, list]]:
        return [(lv, where, what, self._counts[(lv, where, what)], ex)
                for (lv, where, what), ex in self._faults.items()
                if level is None or lv == level]

    def format(self) -> str:
        lines = []
        for level in ('error', 'warning'):
            for _, where, what, n, examples in self.faults(level):
                lines.append(f'{level.upper()} {where}: {what} ({n}x)')
                for ex in examples:
                    lines.append(f'    {ex}')
                if n > len(examples) and examples:
                    lines.append(f'    ... and {n - len(examples)} more')
        lines.append(f'{self.errors} error(s), {self.warnings} warning(s) in '
                     f'{len(self.checked)} dataset(s): ' + '; '.join(self.checked))
        return '\n'.join(lines)


def _read_json(path: str, report: DataReport, where: str):
    import json
    try:
        with open(path, 'rb') as f:
            return json.loads(f.read())
    except json.JSONDecodeError as exc:
        size = osp.getsize(path)
        hint = ' (the file ends early: truncated?)' if exc.pos >= size - 1 else ''
        report.add('error', where, 'annotation file is not valid JSON',
                   f'{path}: {exc.msg} at line {exc.lineno} column {exc.colno} '
                   f'(byte {exc.pos} of {size}){hint}')
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        report.add('error', where, 'annotation file cannot be read', f'{path}: {exc}')
    return None


def _check_image(path: str, report: DataReport, where: str, full: bool,
                 size: Optional[Tuple[int, int]] = None) -> Optional[Tuple[int, int]]:
    """Header (and with ``full`` the decode, as training reads it); returns (width, height)."""
    if not osp.isfile(path):
        report.add('error', where, 'image file missing', path)
        return None
    from PIL import Image
    try:
        with Image.open(path) as im:
            wh = im.size
    except Exception as exc:  # noqa: BLE001  (PIL raises many types)
        report.add('error', where, 'image header unreadable (not an image / corrupt)',
                   f'{path}: {exc}')
        return None
    suspicious = False
    if path.lower().endswith(('.jpg', '.jpeg')):
        with open(path, 'rb') as f:
            f.seek(max(0, osp.getsize(path) - 64))
            suspicious = b'\xff\xd9' not in f.read()  # no end marker: truncated?
    if full or suspicious:
        import cv2
        import numpy as np
        with open(path, 'rb') as f:
            buf = np.frombuffer(f.read(), np.uint8)
        if cv2.imdecode(buf, cv2.IMREAD_COLOR) is None:  # what mmcv's LoadImageFromFile does
            report.add('error', where, 'image does not decode (training would stop here)',
                       f'{path}' + (' (no JPEG end marker: truncated)' if suspicious else ''))
            return None
        if suspicious:
            report.add('warning', where, 'JPEG without its end marker (decodes, maybe with '
                       'grey rows)', path)
    if size is not None and tuple(size) != tuple(wh):
        report.add('warning', where, 'image size differs from the annotation\'s',
                   f'{path}: file {wh[0]}x{wh[1]}, annotation {size[0]}x{size[1]}')
    return wh


def _box_faults(x1, y1, x2, y2, w, h, report, where, example):
    """mmdet drops zero-area boxes and boxes without overlap with the image without a word."""
    if x2 - x1 < 1 or y2 - y1 < 1:
        report.add('warning', where, 'zero-area boxes (mmdet drops them silently)', example)
    elif w and h and (x1 >= w or y1 >= h or x2 <= 0 or y2 <= 0):
        report.add('error', where,
                   'boxes entirely outside their image (mmdet drops them silently; wrong '
                   'coordinates, e.g. xyxy written as xywh?)', example)
    elif w and h and (x1 < -1 or y1 < -1 or x2 > w + 1 or y2 > h + 1):
        report.add('warning', where, 'boxes partly outside their image (clipped)', example)


def _check_coco(ds: dict, classes, report: DataReport, where: str, full: bool) -> None:
    root = ds.get('data_root') or ''
    ann_file = _join(root, ds.get('ann_file', ''))
    prefix = ds.get('data_prefix') or {}
    img_dir = _join(root, prefix.get('img', '') if isinstance(prefix, dict) else prefix)
    data = _read_json(ann_file, report, where)
    if data is None:
        return
    missing = [k for k in ('images', 'annotations', 'categories') if k not in data]
    if missing:
        report.add('error', where, 'not a COCO instances file', f'{ann_file}: no {missing}')
        return
    cats = {c['id']: c['name'] for c in data['categories']}
    names = set(cats.values())
    for name in classes or ():
        if name not in names:
            report.add('error', where,
                       'config class missing from the json categories (the labels of the '
                       'other classes shift)', f'{name!r} not in {sorted(names)} ({ann_file})')
    unused = sorted(n for n in names if classes and n not in classes)
    images = {im['id']: im for im in data['images']}
    for ann in data['annotations']:
        image = images.get(ann.get('image_id'))
        label = f'{ann_file}: annotation id {ann.get("id")}'
        if image is None:
            report.add('error', where, 'annotations of an image id not in images',
                       f'{label}: image_id {ann.get("image_id")}')
            continue
        label += f' ({image.get("file_name")})'
        cat = ann.get('category_id')
        if cat not in cats:
            report.add('error', where, 'category_id not in categories (mmdet drops these '
                       'annotations silently)', f'{label}: category_id {cat}')
            continue
        if classes and cats[cat] not in classes:
            continue
        box = ann.get('bbox')
        if not isinstance(box, (list, tuple)) or len(box) != 4:
            report.add('error', where, 'bbox is not [x, y, w, h]', f'{label}: {box}')
            continue
        x, y, bw, bh = box
        _box_faults(x, y, x + bw, y + bh, image.get('width'), image.get('height'), report,
                    where, f'{label}: bbox {box} in {image.get("width")}x{image.get("height")}')
    if unused:
        n = sum(1 for a in data['annotations'] if cats.get(a.get('category_id')) in unused)
        report.add('warning', where, 'json categories not in the config classes (their '
                   'annotations are not trained)', f'{unused}: {n} annotations ({ann_file})')
    for image in data['images']:
        _check_image(osp.join(img_dir, image['file_name']), report, where, full,
                     (image.get('width'), image.get('height')))


def _check_voc(ds: dict, classes, report: DataReport, where: str, full: bool) -> None:
    import xml.etree.ElementTree as ET
    root = ds.get('data_root') or ''
    prefix = ds.get('data_prefix') or {}
    sub = _join(root, prefix.get('sub_data_root', ''))
    img_sub, ann_sub = ds.get('img_subdir', 'JPEGImages'), ds.get('ann_subdir', 'Annotations')
    ann_file = _join(root, ds.get('ann_file', ''))
    try:
        with open(ann_file) as f:
            ids = [line.strip() for line in f if line.strip()]
    except OSError as exc:
        report.add('error', where, 'image list cannot be read', f'{ann_file}: {exc}')
        return
    for img_id in ids:
        xml = osp.join(sub, ann_sub, img_id + '.xml')
        try:
            tree = ET.parse(xml).getroot()
        except (OSError, ET.ParseError) as exc:
            report.add('error', where, 'annotation xml missing or unreadable', f'{xml}: {exc}')
            continue
        size = tree.find('size')
        w = int(size.find('width').text) if size is not None else None
        h = int(size.find('height').text) if size is not None else None
        for obj in tree.findall('object'):
            name = obj.find('name').text if obj.find('name') is not None else None
            if classes and name not in classes:
                report.add('warning', where, 'object names not in the config classes (mmdet '
                           'drops them silently)', f'{xml}: {name!r}')
                continue
            bnd = obj.find('bndbox')
            try:
                x1, y1, x2, y2 = (float(bnd.find(k).text)
                                  for k in ('xmin', 'ymin', 'xmax', 'ymax'))
            except (AttributeError, TypeError, ValueError):
                report.add('error', where, 'object without a numeric bndbox', xml)
                continue
            _box_faults(x1 - 1, y1 - 1, x2, y2, w, h, report, where,
                        f'{xml}: {name} box {[x1, y1, x2, y2]} in {w}x{h}')
        _check_image(osp.join(sub, img_sub, img_id + '.jpg'), report, where, full,
                     (w, h) if w and h else None)


def _label_values(path: str):
    import numpy as np
    from PIL import Image
    with Image.open(path) as im:
        return np.array(im), im.size


def _check_seg(dataset, num_classes, report: DataReport, where: str, full: bool) -> None:
    import numpy as np
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        wh = _check_image(info['img_path'], report, where, full)
        seg = info.get('seg_map_path')
        if not seg or not osp.isfile(seg):
            report.add('error', where, 'label map missing', f'{info["img_path"]}: {seg}')
            continue
        try:
            labels, seg_wh = _label_values(seg)
        except Exception as exc:  # noqa: BLE001
            report.add('error', where, 'label map unreadable', f'{seg}: {exc}')
            continue
        if wh is not None and seg_wh != wh:
            report.add('error', where, 'label map size differs from its image',
                       f'{seg}: {seg_wh[0]}x{seg_wh[1]}, image {wh[0]}x{wh[1]}')
        values = np.unique(labels).astype(np.int64)
        if info.get('reduce_zero_label'):  # as mmseg's LoadAnnotations: first this, then label_map
            values = np.where(values == 0, 255, values - 1)
            values = np.where(values == 254, 255, values)
        label_map = info.get('label_map') or {}
        if label_map:
            values = np.unique([label_map.get(int(v), int(v)) for v in values])
        bad = [int(v) for v in values if v != 255 and (v < 0 or v >= num_classes)]
        if num_classes and bad:
            report.add('error', where,
                       f'label values >= num_classes={num_classes} (255 is the ignore index; '
                       'training would stop with "Target ... is out of bounds")',
                       f'{seg}: values {bad}')


def _check_cls(dataset, num_classes, report: DataReport, where: str, full: bool) -> None:
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        _check_image(info['img_path'], report, where, full)
        label = info.get('gt_label')
        if label is not None and num_classes:
            import numpy as np
            values = [int(v) for v in np.atleast_1d(np.asarray(label))]
            bad = [v for v in values if v < 0 or v >= num_classes]
            if bad:
                report.add('error', where, f'labels outside 0..{num_classes - 1} '
                           f'(num_classes={num_classes})', f'{info["img_path"]}: {bad}')


def _num_classes(model_cfg) -> List[Tuple[str, int]]:
    """Every ``num_classes`` in the model config (RPN heads, always 1, excluded)."""
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == 'num_classes' and isinstance(value, int) and 'rpn_head' not in path:
                    found.append((path or 'model', value))
                else:
                    walk(value, f'{path}.{key}' if path else key)
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                walk(value, f'{path}[{i}]')

    walk(model_cfg or {}, '')
    return found


def _dataset_class(scope: str, ds_type):
    from mmengine.registry import DATASETS
    if not isinstance(ds_type, str):
        return ds_type
    with DATASETS.switch_scope_and_registry(scope) as registry:
        return registry.get(ds_type)


def _family(cls) -> str:
    names = [c.__module__ + '.' + c.__name__ for c in getattr(cls, '__mro__', ())]
    if any(n.endswith('.CocoDataset') and n.startswith('mmdet') for n in names):
        return 'coco'
    if any(n.endswith('.XMLDataset') and n.startswith('mmdet') for n in names):
        return 'voc'
    if any(n.endswith('.BaseSegDataset') and n.startswith('mmseg') for n in names):
        return 'seg'
    if any(n.startswith('mmpretrain') and n.endswith('.BaseDataset') for n in names):
        return 'cls'
    return 'other'


def _build_plain(ds: dict, scope: str):
    """The dataset object with an empty pipeline (lists files and labels, decodes nothing)."""
    from mmengine.registry import DATASETS
    ds = dict(ds)
    ds['pipeline'] = []
    ds['lazy_init'] = False
    ds['serialize_data'] = False
    with DATASETS.switch_scope_and_registry(scope) as registry:
        return registry.build(ds)


def inspect_datasets(cfg, full: bool = False, splits=('train', 'val', 'test'),
                     report: Optional[DataReport] = None) -> DataReport:
    """Read every annotation and image header (``full``: decode every image) of the config's
    datasets and collect the faults that break or silently corrupt training.

    Errors: unreadable / truncated annotation files, missing / undecodable images, category ids
    not in ``categories``, boxes entirely outside their image, config classes missing from the
    annotations, label values >= ``num_classes`` (other than the 255 ignore index),
    ``num_classes`` smaller than the dataset's classes. Warnings (trains, but suspicious):
    zero-area and partly-outside boxes, categories / names the config does not train, image sizes
    that differ from the annotation, JPEGs without an end marker, ``num_classes`` larger than the
    dataset's classes.
    """
    report = report or DataReport()
    scope = cfg.get('default_scope', 'mmengine')
    heads = _num_classes(cfg.get('model'))
    num_classes = heads[0][1] if heads else None
    seen = set()
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        for ds in _leaf_datasets(loader.get('dataset')):
            key = repr(sorted((k, repr(v)) for k, v in ds.items() if k != 'pipeline'))
            if key in seen:  # val and test are often the same dataset
                continue
            seen.add(key)
            ds_type = ds.get('type', '?')
            cls = _dataset_class(scope, ds_type)
            family = _family(cls)
            name = getattr(cls, '__name__', str(ds_type))
            source = _join(ds.get('data_root') or '', ds.get('ann_file') or '')
            where = f'{split} {name} ({source or ds.get("data_root")})'
            report.checked.append(where)
            meta = dict(getattr(cls, 'METAINFO', {}) or {})
            meta.update(ds.get('metainfo') or {})
            classes = tuple(meta.get('classes') or ())
            if family == 'coco':
                _check_coco(ds, classes, report, where, full)
            elif family == 'voc':
                _check_voc(ds, classes, report, where, full)
            else:
                try:
                    dataset = _build_plain(ds, scope)
                except Exception as exc:  # noqa: BLE001  (the dataset class's own error)
                    report.add('error', where, 'dataset cannot be built',
                               f'{type(exc).__name__}: {exc}')
                    continue
                classes = tuple(dataset.metainfo.get('classes') or classes)
                if family == 'seg':
                    _check_seg(dataset, num_classes, report, where, full)
                elif family == 'cls':
                    _check_cls(dataset, num_classes, report, where, full)
                else:
                    for i in range(len(dataset)):
                        path = dataset.get_data_info(i).get('img_path')
                        if path:
                            _check_image(path, report, where, full)
            if split == 'train' and classes:
                for path, n in heads:
                    if n < len(classes):
                        report.add('error', where, 'num_classes smaller than the dataset\'s '
                                   'classes', f'{path}.num_classes={n}, {len(classes)} classes '
                                   f'{classes}')
                    elif n > len(classes):
                        report.add('warning', where, 'num_classes larger than the dataset\'s '
                                   'classes (the extra outputs never see a positive)',
                                   f'{path}.num_classes={n}, {len(classes)} classes {classes}')
    return report


def check_data_contents(cfg, full: bool = False) -> DataReport:
    """:func:`inspect_datasets`, raising :class:`DatasetCheckError` when it finds errors."""
    report = inspect_datasets(cfg, full=full)
    if report.errors:
        raise DatasetCheckError(
            'The data of this config has faults that would stop or silently corrupt '
            'training:\n' + report.format() + '\nFix the files (python '
            'tools/misc/check_dataset.py CONFIG --full lists every fault), or pass '
            '--skip-data-check to tools/train.py to train anyway.')
    return report
