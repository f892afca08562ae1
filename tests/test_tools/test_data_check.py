"""Bad data found before training: real broken files (COCO det, VOC / ADE20K seg) through
tools/misc/check_dataset.py, the check at the start of tools/train.py, and undecodable images
during training (named; skipped and counted with --skip-corrupt-images)."""
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
from conftest import needs_mmdet, needs_mmpretrain, needs_mmseg

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, osp.join(ROOT, 'tools'))
sys.path.insert(0, osp.join(ROOT, 'tools', 'misc'))
sys.path.insert(0, HERE)

from process_state import restored_process_state  # noqa: E402
from tiny_configs import write_cls, write_det, write_seg  # noqa: E402


def _prepare(cfg_path):
    from mmengine.config import Config

    from mmedge.utils.data_check import prepare_toy_data
    cfg = Config.fromfile(cfg_path)
    prepare_toy_data(cfg)
    return cfg


def _check(cfg_path, *args, capsys):
    import check_dataset
    rc = check_dataset.main([cfg_path, *args])
    return rc, capsys.readouterr().out


@pytest.fixture
def coco(tmp_path):
    cfg = write_det(tmp_path, tmp_path / 'data', n=4, tag=tmp_path.name[-20:])
    _prepare(cfg)
    return cfg, tmp_path / 'data'


def _edit_json(path, fn):
    with open(path) as f:
        data = json.load(f)
    fn(data)
    with open(path, 'w') as f:
        json.dump(data, f)


@needs_mmdet
def test_clean_toy_data_has_no_faults(coco, capsys):
    rc, out = _check(coco[0], capsys=capsys)
    assert rc == 0 and '0 error(s), 0 warning(s) in 2 dataset(s)' in out


@needs_mmdet
def test_truncated_coco_json_names_the_file(coco, capsys):
    cfg, root = coco
    ann = root / 'annotations' / 'instances_train2017.json'
    text = ann.read_bytes()
    ann.write_bytes(text[:len(text) // 2])
    rc, out = _check(cfg, capsys=capsys)
    assert rc == 1
    assert f'{ann}: ' in out and 'not valid JSON' in out and 'truncated?' in out
    # tools/train.py stops before building anything, with the same report
    import train as train_tool

    from mmedge.utils.data_check import DatasetCheckError
    with pytest.raises(DatasetCheckError) as info:
        train_tool.main([cfg, '--work-dir', str(root.parent / 'w')])
    assert str(ann) in str(info.value) and '--skip-data-check' in str(info.value)


@needs_mmdet
def test_coco_annotation_faults_are_counted_with_file_names(coco, capsys):
    cfg, root = coco
    ann = root / 'annotations' / 'instances_train2017.json'

    def break_it(data):
        anns = data['annotations']
        anns[0]['category_id'] = 7  # not in categories
        anns[1]['bbox'] = [500., 500., 10., 10.]  # image is 96x96
        anns[2]['bbox'] = [10., 10., 0., 12.]  # zero width
        anns[3]['bbox'] = [80., 80., 30., 30.]  # partly outside
    _edit_json(ann, break_it)
    rc, out = _check(cfg, '--cfg-options', 'model.bbox_head.num_classes=5', capsys=capsys)
    assert rc == 1
    lines = out.splitlines()
    err = [ln for ln in lines if ln.startswith('ERROR')]
    warn = [ln for ln in lines if ln.startswith('WARNING')]
    assert any('category_id not in categories' in ln and '(1x)' in ln for ln in err)
    assert 'category_id 7' in out and f'{ann}: annotation id 1' in out
    assert any('entirely outside' in ln and '(1x)' in ln for ln in err)
    assert 'bbox [500.0, 500.0, 10.0, 10.0] in 96x96' in out
    assert any('zero-area' in ln and '(1x)' in ln for ln in warn)
    assert any('partly outside' in ln for ln in warn)
    assert any('num_classes larger' in ln for ln in warn)
    assert 'bbox_head.num_classes=5, 3 classes' in out
    assert '2 error(s), 3 warning(s)' in out
    # num_classes below the dataset's classes is an error
    rc, out = _check(cfg, '--cfg-options', 'model.bbox_head.num_classes=2', capsys=capsys)
    assert rc == 1 and 'num_classes smaller' in out


def _corrupt_jpeg(path, keep_header):
    data = open(path, 'rb').read()
    # keep_header: a JPEG cut in half (valid header, no end marker); else random bytes
    bad = data[:len(data) // 2] if keep_header else b'\xff\xd8\xff\xe0' + bytes(
        np.random.default_rng(0).integers(0, 256, 900, dtype=np.uint8))
    open(path, 'wb').write(bad)


@needs_mmdet
def test_corrupt_jpegs_found_by_the_header_check_and_the_full_decode(coco, capsys):
    cfg, root = coco
    _corrupt_jpeg(root / 'train2017' / '000001.jpg', keep_header=False)
    _corrupt_jpeg(root / 'val2017' / '000000.jpg', keep_header=True)
    rc, out = _check(cfg, '--fast', capsys=capsys)
    assert rc == 1
    assert 'image header unreadable' in out and 'train2017/000001.jpg' in out
    assert 'val2017/000000.jpg (no JPEG end marker: truncated)' in out


@needs_mmdet
def test_corrupt_training_image_named_then_skipped_and_counted(coco, in_process_train):
    cfg, root = coco
    bad = root / 'train2017' / '000002.jpg'
    _corrupt_jpeg(bad, keep_header=False)
    from mmedge.engine import CorruptImageError
    opts = ['--cfg-options', 'train_cfg.max_epochs=1', 'default_hooks.checkpoint.interval=100']
    with pytest.raises(CorruptImageError) as info:
        in_process_train([cfg, '--work-dir', str(root.parent / 'w1'), '--skip-data-check',
                          *opts, 'visualizer.name=vis_corrupt1'])
    assert str(bad) in str(info.value) and '--skip-corrupt-images' in str(info.value)
    runner = in_process_train([cfg, '--work-dir', str(root.parent / 'w2'), '--skip-data-check',
                               '--skip-corrupt-images', *opts, 'visualizer.name=vis_corrupt2'])
    assert runner.iter == 2  # the epoch finished: another image was drawn in its place
    record = osp.join(runner.log_dir, 'skipped_images.txt')
    with open(record) as f:
        skipped = f.read().splitlines()
    assert skipped and all(line.startswith(str(bad)) for line in skipped)
    with open(osp.join(runner.log_dir, osp.basename(runner.log_dir) + '.log')) as f:
        assert f'{len(skipped)} undecodable training image loads skipped' in f.read()


@pytest.fixture
def in_process_train():
    import train as train_tool
    with restored_process_state():
        yield train_tool.main


def _write_label(path, fn):
    from PIL import Image
    im = Image.open(path)
    arr = np.array(im)
    fn(arr)
    out = Image.fromarray(arr, mode=im.mode)
    if im.mode == 'P':
        out.putpalette(im.getpalette())
    out.save(path)


@needs_mmseg
def test_voc_seg_label_out_of_range_named_255_ignored(tmp_path, capsys):
    cfg = write_seg(tmp_path, tmp_path / 'data', n=3, tag=tmp_path.name[-20:])
    _prepare(cfg)
    seg = tmp_path / 'data' / 'VOCdevkit' / 'VOC2012' / 'SegmentationClass'
    files = sorted(os.listdir(seg))
    _write_label(seg / files[0], lambda a: a.__setitem__((slice(0, 4), slice(0, 4)), 7))
    _write_label(seg / files[1], lambda a: a.__setitem__((slice(0, 4), slice(0, 4)), 255))
    rc, out = _check(cfg, '--cfg-options', 'model.decode_head.num_classes=4',
                     'model.auxiliary_head.num_classes=4', capsys=capsys)
    assert rc == 1
    assert f'{seg / files[0]}: values [7]' in out and 'num_classes=4' in out
    assert files[1] not in out  # 255 is the ignore index
    assert '1 error(s), 0 warning(s)' in out
    _write_label(seg / files[0], lambda a: a.__setitem__((slice(0, 4), slice(0, 4)), 0))
    rc, out = _check(cfg, '--cfg-options', 'model.decode_head.num_classes=6',
                     'model.auxiliary_head.num_classes=6', capsys=capsys)
    assert rc == 0 and 'num_classes larger' in out and 'decode_head.num_classes=6' in out


@needs_mmseg
def test_ade20k_reduce_zero_label_values(tmp_path, capsys):
    from mmedge.datasets import generate_toy_dataset
    root = tmp_path / 'ade'
    generate_toy_dataset(str(root), 'ade20k', num_train=2, num_val=1, img_size=(32, 32))
    ann = root / 'ADEChallengeData2016' / 'annotations' / 'training'
    files = sorted(os.listdir(ann))
    # raw 151 -> label 150 after reduce_zero_label: out of range for ADE's 150 classes;
    # raw 150 -> 149 is fine; raw 0 -> 255 ignored
    _write_label(ann / files[0], lambda a: a.__setitem__((slice(0, 2), slice(0, 2)), 151))
    _write_label(ann / files[1], lambda a: a.__setitem__((slice(0, 2), slice(0, 2)), 150))
    data_root = str(root / 'ADEChallengeData2016') + '/'
    rc, out = _check(osp.join(ROOT, 'configs', 'emo', 'deeplabv3_emo_1m_ade20k.py'), '--fast',
                     '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
                     f'val_dataloader.dataset.data_root={data_root}',
                     f'test_dataloader.dataset.data_root={data_root}', capsys=capsys)
    assert rc == 1
    assert f'{ann / files[0]}: values [150]' in out and files[1] not in out


@needs_mmpretrain
def test_cls_num_classes_against_the_folders(tmp_path, capsys):
    cfg = write_cls(tmp_path, tmp_path / 'data', tag=tmp_path.name[-20:])
    rc, out = _check(cfg, capsys=capsys)
    assert rc == 0 and '0 error(s), 0 warning(s)' in out
    rc, out = _check(cfg, '--cfg-options', 'model.head.num_classes=1', capsys=capsys)
    assert rc == 1 and 'labels outside 0..0 (num_classes=1) (2x)' in out
    assert 'num_classes smaller' in out and str(tmp_path / 'data' / 'b') in out
    _corrupt = tmp_path / 'data' / 'a' / '0.jpg'
    _corrupt.write_bytes(b'not an image')
    rc, out = _check(cfg, capsys=capsys)
    assert rc == 1 and f'{_corrupt}: ' in out and 'header unreadable' in out
