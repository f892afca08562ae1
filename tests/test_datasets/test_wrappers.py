"""FiniteRepeatDataset: the samples of mmengine's RepeatDataset, and iteration that ends (mmdet's
browse_dataset iterates a toy config's training set with ``for item in dataset``)."""
import os.path as osp

import pytest
from conftest import needs_mmdet

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@needs_mmdet
@pytest.mark.parametrize('times', [1, 2])
def test_same_samples_and_iteration_ends(tmp_path, scope, times):
    from mmengine.config import Config

    from mmedge.datasets import generate_toy_dataset
    from mmedge.datasets.wrappers import FiniteRepeatDataset
    root = str(tmp_path) + '/'
    generate_toy_dataset(root, 'coco', num_train=3, num_val=1)
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'toy', 'toy_ssdlite_edgenext_xxs_coco.py'))
    assert cfg.train_dataloader.dataset.type == 'mmedge.datasets.wrappers.FiniteRepeatDataset'
    inner = dict(cfg.train_dataloader.dataset.dataset, data_root=root, pipeline=[])
    from mmdet.registry import DATASETS
    with scope('mmdet'):
        ours = DATASETS.build(dict(type=cfg.train_dataloader.dataset.type,
                                   times=times, dataset=inner))
        stock = DATASETS.build(dict(type='RepeatDataset', times=times, dataset=inner))
    assert isinstance(ours, FiniteRepeatDataset) and len(ours) == len(stock) == 3 * times
    for i in range(-len(ours), len(ours)):
        assert ours[i]['img_path'] == stock[i]['img_path']
    assert len(list(ours)) == 3 * times  # Python's iteration stops at the IndexError
    with pytest.raises(IndexError, match='out of range'):
        ours[3 * times]
    assert stock[3 * times]['img_path'] == stock[0]['img_path']  # mmengine's never stops
