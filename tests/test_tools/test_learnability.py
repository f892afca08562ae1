"""tools/analysis_tools/learnability.py: the budget stops training, both configs of a pair get
the same data and schedule, and the real metric comes back (parallel mode, tiny data)."""
import json
import os
import os.path as osp
import sys

from conftest import needs_mmdet

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))


@needs_mmdet
def test_parallel_pair_within_budget(tmp_path, monkeypatch):
    import learnability
    monkeypatch.chdir(ROOT)  # the tool reads configs/ relative to the repository
    data = str(tmp_path / 'data') + '/'
    ann_val = data + 'annotations/instances_val2017.json'
    options = [
        f'toy_data.root={data}', 'toy_data.num_train=4', 'toy_data.num_val=2',
        f'train_dataloader.dataset.dataset.data_root={data}',
        f'val_dataloader.dataset.data_root={data}', f'val_evaluator.ann_file={ann_val}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False'
    ]
    out = str(tmp_path / 'learnability.json')
    # a budget of ~0 stops both runs after their first epoch of the 3 scheduled
    results = learnability.main([
        '--pairs', 'det', '--budget-min', '0.0001', '--epochs', '3', '--parallel',
        '--work-root', str(tmp_path / 'work'), '--out', out, '--cfg-options', *options
    ])
    assert [r['config'] for r in results] == list(learnability.PAIRS['det'][:2])
    for r in results:
        assert r['epochs'] == 1 and r['iters'] == 2, r
        assert r['metric'] == 'coco/bbox_mAP' and 0 <= r['value'] <= 1
        assert 'coco/bbox_mAP_50' in r['metrics']
    saved = json.load(open(out))
    assert saved['parallel'] and saved['threads'] == 1 and saved['epochs'] == 3
    assert len(saved['results']) == 2
    for name in learnability.PAIRS['det'][:2]:
        assert osp.isfile(osp.join(tmp_path, 'work', name + '.log'))
    assert len(os.listdir(data + 'train2017')) == 4  # the options reached both workers


@needs_mmdet
def test_settings_get_their_own_data(tmp_path, monkeypatch):
    """Each generator setting writes its own set (every data path of the config moves there),
    and the sets differ as the setting says (smaller boxes for ``small``)."""
    import learnability

    from mmedge.utils.data_check import prepare_toy_data
    monkeypatch.chdir(ROOT)
    data = str(tmp_path / 'data') + '/'
    options = [f'toy_data.root={data}', 'toy_data.num_train=6', 'toy_data.num_val=2',
               f'train_dataloader.dataset.dataset.data_root={data}',
               f'val_dataloader.dataset.data_root={data}',
               f'test_dataloader.dataset.data_root={data}',
               f'val_evaluator.ann_file={data}annotations/instances_val2017.json',
               f'test_evaluator.ann_file={data}annotations/instances_val2017.json']
    work = str(tmp_path / 'work')
    sides = {}
    for setting in ('default', 'small'):
        cfg = learnability._load_cfg('toy_ssdlite_edgenext_xxs_coco', work, options=options,
                                     setting=setting)
        root = cfg.toy_data.root
        assert root == (data if setting == 'default' else
                        osp.join(work, 'data', 'coco_small') + '/')
        assert cfg.train_dataloader.dataset.dataset.data_root == root
        assert cfg.val_dataloader.dataset.data_root == root
        assert cfg.test_evaluator.ann_file == root + 'annotations/instances_val2017.json'
        assert cfg.work_dir == osp.join(learnability._setting_root(work, setting),
                                        'toy_ssdlite_edgenext_xxs_coco')
        prepare_toy_data(cfg)
        ann = json.load(open(root + 'annotations/instances_train2017.json'))
        boxes = [max(a['bbox'][2:]) for a in ann['annotations']]
        sides[setting] = sum(boxes) / len(boxes)
    # shapes of 0.1-0.25 of the side against 0.2-0.5: about half the box size on average
    assert sides['small'] < 0.7 * sides['default'], sides
    import pytest
    with pytest.raises(ValueError, match='unknown setting'):
        learnability._apply_setting(cfg, 'tiny', work)


def test_cpu_clock_counts_work():
    import learnability
    t0 = learnability.cpu_seconds()
    sum(i * i for i in range(2_000_000))
    assert learnability.cpu_seconds() - t0 > 0.01
