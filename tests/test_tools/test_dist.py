"""tools/dist_train.sh / dist_test.sh on a CPU-only machine: two torchrun processes (gloo, CPU DDP)
train a toy detector, both ranks step on their own images, and the checkpoint evaluates."""
import glob
import json
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import pytest
import torch
from conftest import needs_mmdet

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'toy', 'toy_ssdlite_edgenext_xxs_coco.py')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def _cpu_env():
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS='1',
               PORT=_free_port(), PYTHONPATH=ROOT)
    env.pop('WORLD_SIZE', None)
    env.pop('RANK', None)
    return env


def _options(data_root):
    ann_val = osp.join(data_root, 'annotations/instances_val2017.json')
    opts = [
        f'toy_data.root={data_root}', 'toy_data.num_train=4', 'toy_data.num_val=2',
        f'train_dataloader.dataset.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'val_evaluator.ann_file={ann_val}', f'test_evaluator.ann_file={ann_val}',
    ]
    for loader in ('train', 'val', 'test'):
        opts += [f'{loader}_dataloader.num_workers=0',
                 f'{loader}_dataloader.persistent_workers=False']
    return opts


def _run(cmd, env, timeout=240):
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc.stdout


@needs_mmdet
@pytest.mark.skipif(not torch.distributed.is_gloo_available(), reason='no gloo')
def test_dist_train_and_test_on_cpu(tmp_path):
    data_root = str(tmp_path / 'data') + '/'
    work = str(tmp_path / 'work')
    opts = _options(data_root)
    # 4 images over 2 ranks, 2 per batch: one iteration per rank. DEBUG makes every rank keep
    # its own log file (mmengine's MMLogger), so both ranks' training steps can be read back.
    _run(['bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir', work, '--cfg-options',
          'train_cfg.max_epochs=1', 'train_dataloader.batch_size=2', 'log_level=DEBUG',
          'default_hooks.logger.interval=1', 'randomness.seed=0', *opts], _cpu_env())
    logs = sorted(glob.glob(osp.join(work, '*', '*.log')))
    losses = {}
    for log in logs:
        rank = re.search(r'rank(\d+)\.log$', log)
        text = open(log).read()
        step = re.search(r'Epoch\(train\) +\[1\]\[1/1\].* loss: ([0-9.]+)', text)
        if rank and step:
            losses[int(rank.group(1))] = float(step.group(1))
    assert sorted(losses) == [0, 1], logs
    assert losses[0] != losses[1]  # each rank stepped on its own pair of images
    ckpt_path = osp.join(work, 'epoch_1.pth')
    from mmedge.utils.checkpoint import safe_load  # mmengine's log buffers: not torch's default
    ckpt = safe_load(ckpt_path)
    assert ckpt['meta']['iter'] == 1  # 4 images split over 2 ranks, not 2 steps on one
    assert not any(k.startswith('module.') for k in ckpt['state_dict'])
    # the checkpoint evaluates, again with two CPU processes (results gathered over gloo)
    out = _run(['bash', 'tools/dist_test.sh', CONFIG, ckpt_path, '2', '--work-dir', work,
                '--cfg-options', 'test_dataloader.batch_size=1', *opts], _cpu_env())
    with open(osp.join(work, 'metrics.json')) as f:
        metrics = json.load(f)
    assert 0. <= metrics['coco/bbox_mAP'] <= 1., out[-2000:]


def test_launcher_without_torchrun_names_the_fix(monkeypatch):
    from mmengine.config import Config

    from mmedge.utils.dist import setup_dist
    monkeypatch.setattr('mmengine.device.get_device', lambda: 'cpu')
    for var in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(var, raising=False)
    cfg = Config(dict(launcher='pytorch'))
    with pytest.raises(RuntimeError, match='dist_train.sh'):
        setup_dist(cfg)
    cfg = Config(dict(launcher='slurm'))
    with pytest.raises(RuntimeError, match='torchrun'):
        setup_dist(cfg)
    assert setup_dist(Config(dict(launcher='none'))) is False
    assert sys.modules['torch'].distributed.is_initialized() is False
