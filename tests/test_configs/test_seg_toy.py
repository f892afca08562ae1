"""tools/train.py and tools/test.py on a toy segmentation config, as a user runs them: the VOC
set is generated, two iterations train, and the checkpoint is evaluated with mmseg's IoUMetric."""
import json
import os.path as osp
import sys

import pytest
import torch
from conftest import needs_mmseg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools'))
CONFIG = osp.join(ROOT, 'configs', 'toy', 'toy_deeplabv3_emo_1m_voc.py')


def _options(tmp_path):
    toy_root = str(tmp_path / 'data') + '/'
    data_root = toy_root + 'VOCdevkit/VOC2012/'
    opts = [
        f'toy_data.root={toy_root}', 'toy_data.num_train=4',
        'toy_data.num_val=2', 'toy_data.img_size=[96,128]',
        'train_dataloader.batch_size=2', 'randomness.seed=0'
    ]
    for split in ('train', 'val', 'test'):
        opts += [
            f'{split}_dataloader.dataset.data_root={data_root}',
            f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False'
        ]
    return opts


@pytest.fixture
def one_thread():
    # small tensors: extra threads only oversubscribe shared CI cores
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@needs_mmseg
def test_toy_seg_train_then_test(tmp_path, one_thread):
    import test as test_tool
    import train as train_tool
    work = str(tmp_path / 'work')
    opts = _options(tmp_path)
    runner = train_tool.main([
        CONFIG, '--work-dir', work, '--cfg-options', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=2',
        *opts
    ])
    assert runner.iter == 2
    ckpt = osp.join(work, 'iter_2.pth')
    assert osp.isfile(ckpt)
    metrics = test_tool.main(
        [CONFIG, ckpt, '--work-dir', work, '--cfg-options', *opts])
    assert 0. <= metrics['mIoU'] <= 100.
    assert {'aAcc', 'mAcc'} <= set(metrics)
    with open(osp.join(work, 'metrics.json')) as f:
        assert json.load(f)['mIoU'] == metrics['mIoU']
