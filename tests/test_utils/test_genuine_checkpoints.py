"""Genuine checkpoints of every kind the project writes load through mmedge's restricted loader
and resume: a detector, a segmentor and a classifier (real configs, real training steps, with
optimizer, param schedulers, EMA and a message hub holding numpy metrics)."""
import os.path as osp
import pickletools
import sys
import zipfile

import numpy as np
import pytest
import torch
from conftest import needs_mmdet, needs_mmpretrain, needs_mmseg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools'))


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _globals_and_opcodes(path):  # noqa: D401
    """The globals and opcodes of a zip checkpoint's pickle (pickletools, nothing executed)."""
    with zipfile.ZipFile(path) as zf:
        data = zf.read(next(n for n in zf.namelist() if n.endswith('/data.pkl')))
    names, ops = set(), set()
    for op, arg, _ in pickletools.genops(data):
        ops.add(op.name)
        if op.name == 'GLOBAL':
            names.add(arg.replace(' ', '.'))
    return names, ops


# everything mmengine 0.10.7 + torch write for the project's runs (read off real files)
_EXPECTED_GLOBALS = {
    'collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch.FloatStorage',
    'torch.LongStorage', 'numpy._core.multiarray._reconstruct', 'numpy.ndarray', 'numpy.dtype',
    'numpy._core.multiarray.scalar', '_codecs.encode', '__builtin__.getattr',
    'mmengine.logging.history_buffer.HistoryBuffer', '__builtin__.set', 'torch.BoolStorage',
    'torch.DoubleStorage', 'torch.IntStorage', '__builtin__.bytes', 'torch.ByteStorage',
    'collections.Counter',  # MultiStepLR milestones
}


def _check_genuine(path, expect_keys):
    from mmengine.logging import HistoryBuffer

    from mmedge.utils.checkpoint import safe_load
    names, _ = _globals_and_opcodes(path)
    assert names <= _EXPECTED_GLOBALS, names - _EXPECTED_GLOBALS
    ckpt = safe_load(path)
    assert expect_keys <= set(ckpt), set(ckpt)
    hub = ckpt['message_hub']
    buffers = list(hub['log_scalars'].values())
    assert buffers and all(type(b) is HistoryBuffer for b in buffers)
    assert all(np.isfinite(b.mean()) for b in buffers)
    assert all(isinstance(v, torch.Tensor) for v in ckpt['state_dict'].values())
    return ckpt


@needs_mmseg
def test_seg_checkpoint_loads_and_resumes(tmp_path, one_thread):
    import train as train_tool
    from test_configs.test_seg_toy import CONFIG, _options  # noqa: F401 (same toy setup)
    work = str(tmp_path / 'work')
    opts = _options(tmp_path)
    train_tool.main([CONFIG, '--work-dir', work, '--cfg-options', 'train_cfg.max_iters=2',
                     'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2', *opts])
    ckpt = _check_genuine(osp.join(work, 'iter_2.pth'),
                          {'meta', 'state_dict', 'optimizer', 'param_schedulers', 'message_hub'})
    assert all(isinstance(b._log_history, np.ndarray)
               for b in ckpt['message_hub']['log_scalars'].values())
    runner = train_tool.main([CONFIG, '--work-dir', work, '--resume', '--cfg-options',
                              'train_cfg.max_iters=3', 'train_cfg.val_interval=100',
                              'default_hooks.checkpoint.interval=3', *opts])
    assert runner.iter == 3
    resumed = _check_genuine(osp.join(work, 'iter_3.pth'), {'optimizer'})
    steps = {int(s['step']) for s in resumed['optimizer']['state'].values()}
    assert steps == {3}


@needs_mmdet
def test_det_checkpoint_loads(tmp_path, one_thread):
    import train as train_tool
    from test_tools.test_train_test import _data_options
    config = osp.join(ROOT, 'configs', 'toy', 'toy_ssdlite_edgenext_xxs_coco.py')
    work = str(tmp_path / 'work')
    opts = [o for o in _data_options(str(tmp_path / 'data') + '/')
            if not o.startswith('model.backbone.arch')]
    train_tool.main([config, '--work-dir', work, '--cfg-options', 'train_cfg.max_epochs=1',
                     'train_cfg.val_interval=1', *opts])
    ckpt = _check_genuine(osp.join(work, 'epoch_1.pth'),
                          {'meta', 'state_dict', 'optimizer', 'param_schedulers', 'message_hub'})
    # and the detector's backbone loads from it with init_cfg=Pretrained (prefix backbone.)
    from mmedge.registry import MODELS
    backbone = MODELS.build(dict(type='mmedge.EdgeNeXt', arch='xx_small', init_cfg=dict(
        type='Pretrained', checkpoint=osp.join(work, 'epoch_1.pth'), prefix='backbone.',
        format='mmedge')))
    backbone.init_weights()
    for k, v in backbone.state_dict().items():
        if not k.endswith('num_batches_tracked'):
            torch.testing.assert_close(v, ckpt['state_dict'][f'backbone.{k}'])


def _cls_runner(tmp_path, max_iters, resume):
    from mmengine.config import Config
    from mmengine.runner import Runner
    from PIL import Image
    data = tmp_path / 'imgs'
    rng = np.random.default_rng(0)
    for c in range(2):
        (data / f'class{c}').mkdir(parents=True, exist_ok=True)
        for i in range(2):
            Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(
                data / f'class{c}' / f'{i}.png')
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'repnext', 'cls_repnext_m0_in1k.py'))
    cfg.model.head.num_classes = 2
    cfg.model.train_cfg = None  # no Mixup / CutMix: 2 classes, 4 images
    cfg.train_dataloader.dataset = dict(type='CustomDataset', data_root=str(data),
                                        pipeline=cfg.train_dataloader.dataset.pipeline)
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=1000)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
                                end=2), dict(type='CosineAnnealingLR', by_epoch=False,
                                             begin=2, end=8)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2, by_epoch=False)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.resume = resume
    cfg.randomness = dict(seed=0)
    cfg.visualizer.name = f'vis_cls_{max_iters}'
    cfg.experiment_name = f'cls_{max_iters}'
    return Runner.from_cfg(cfg)


@needs_mmpretrain
def test_cls_checkpoint_with_ema_loads_and_resumes(tmp_path, one_thread):
    runner = _cls_runner(tmp_path, 2, False)
    runner.train()
    path = osp.join(str(tmp_path / 'work'), 'iter_2.pth')
    ckpt = _check_genuine(path, {'meta', 'state_dict', 'optimizer', 'param_schedulers',
                                 'message_hub', 'ema_state_dict'})
    assert len(ckpt['param_schedulers']) == 2
    runner = _cls_runner(tmp_path, 4, True)
    runner.train()
    assert runner.iter == 4
    resumed = _check_genuine(osp.join(str(tmp_path / 'work'), 'iter_4.pth'), {'optimizer'})
    assert resumed['meta']['iter'] == 4
