"""tools/train.py -> --resume -> tools/test.py on a generated COCO set, as a user runs them."""
import json
import os.path as osp
import sys

import pytest
from conftest import needs_mmdet

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools'))
CONFIG = osp.join(ROOT, 'configs', 'toy', 'toy_ssdlite_edgenext_s_coco.py')


def _data_options(data_root):
    ann_val = osp.join(data_root, 'annotations/instances_val2017.json')
    return [
        f'toy_data.root={data_root}', 'toy_data.num_train=4',
        'toy_data.num_val=2', f'train_dataloader.dataset.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'val_evaluator.ann_file={ann_val}', f'test_evaluator.ann_file={ann_val}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
        'randomness.seed=0', 'default_hooks.checkpoint.interval=1',
        'model.backbone.arch=small',
        # mmengine's Visualizer is a process-wide named instance: a fresh name per test
        # keeps an earlier test's instance (and its save_dir) out of this run
        f'visualizer.name=vis_{osp.basename(osp.dirname(data_root.rstrip("/")))}',
    ]


@needs_mmdet
def test_train_resume_test(tmp_path):
    import test as test_tool
    import train as train_tool
    data_root = str(tmp_path / 'data') + '/'
    work = str(tmp_path / 'work')
    opts = _data_options(data_root)
    runner = train_tool.main([
        CONFIG, '--work-dir', work, '--cfg-options', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', *opts
    ])
    assert runner.iter == 2 and osp.isfile(osp.join(work, 'epoch_1.pth'))
    # resume the interrupted run for one more epoch
    runner = train_tool.main([
        CONFIG, '--work-dir', work, '--resume', '--cfg-options',
        'train_cfg.max_epochs=2', 'train_cfg.val_interval=1', *opts
    ])
    assert runner.epoch == 2 and runner.iter == 4
    from mmedge.utils.checkpoint import safe_load
    ckpt = safe_load(osp.join(work, 'epoch_2.pth'))
    assert ckpt['meta']['iter'] == 4
    steps = {int(s['step']) for s in ckpt['optimizer']['state'].values()}
    assert steps == {4}
    metrics = test_tool.main([
        CONFIG, osp.join(work, 'epoch_2.pth'), '--work-dir', work,
        '--show-dir', str(tmp_path / 'vis'), '--cfg-options', *opts
    ])
    assert 0. <= metrics['coco/bbox_mAP'] <= 1.
    with open(osp.join(work, 'metrics.json')) as f:
        assert json.load(f)['coco/bbox_mAP'] == metrics['coco/bbox_mAP']
    assert len(list((tmp_path / 'vis').glob('*.jpg'))) == 2
    # loss and metric curves of the run
    sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
    import plot_curves
    out, losses, metrics = plot_curves.plot(work, str(tmp_path / 'curves.png'))
    assert osp.getsize(out) > 1000
    assert 'loss' in losses and 'coco/bbox_mAP' in metrics


def test_missing_dataset_names_the_layout(tmp_path):
    from mmengine.config import Config

    from mmedge.utils.data_check import DatasetNotFoundError, check_datasets
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'edgenext', 'ssdlite_edgenext_s_coco.py'))
    cfg.merge_from_dict({
        'train_dataloader.dataset.dataset.data_root': str(tmp_path / 'coco/'),
        'val_dataloader.dataset.data_root': str(tmp_path / 'coco/'),
        'test_dataloader.dataset.data_root': str(tmp_path / 'coco/'),
    })
    with pytest.raises(DatasetNotFoundError) as info:
        check_datasets(cfg)
    msg = str(info.value)
    assert 'instances_train2017.json' in msg and 'CocoDataset' in msg
    assert 'expected layout' in msg and '--cfg-options' in msg
