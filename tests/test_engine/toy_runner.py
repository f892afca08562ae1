"""A tiny mmengine model + dataset with random augmentation and dropout, trained by a real Runner.

Used by the engine tests: a few CPU milliseconds per iteration, yet every source of randomness a
detector has (augmentation in the dataset through python / numpy / torch, dropout in the model,
BatchNorm buffers, a shuffling sampler).
"""
import os.path as osp
import random
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.dataset import BaseDataset
from mmengine.model import BaseModel

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'test_tools'))
from process_state import restored_process_state  # noqa: E402


class ToyModel(BaseModel):

    def __init__(self, nan_at: int = -1):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(),
                                 nn.Dropout(0.3), nn.Linear(8, 1))
        self.nan_at = nan_at
        self.calls = 0

    def forward(self, inputs, targets=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.net(x).squeeze(1)
        if mode != 'loss':
            return out
        y = torch.stack(targets) if isinstance(targets, list) else targets
        self.calls += 1
        loss = ((out - y)**2).mean()
        if self.calls == self.nan_at:
            loss = loss * float('nan')
        return dict(loss_mse=loss, loss_l1=(out - y).abs().mean())


class ToyDataset(BaseDataset):

    def __init__(self, num=12, **kwargs):
        self.num = num
        super().__init__(serialize_data=False, **kwargs)

    def load_data_list(self):
        return [dict(index=i) for i in range(self.num)]

    def prepare_data(self, idx):
        i = self.get_data_info(idx)['index']
        x = torch.full((4, ), float(i)) / self.num
        # augmentation drawing from all three generators, as mmcv / mmdet transforms do
        x = x + float(np.random.rand()) * 0.1 + random.random() * 0.1 + torch.rand(4) * 0.1
        return dict(inputs=x, targets=torch.tensor(float(i % 3)))


def toy_cfg(work_dir, *, epochs=None, iters=None, ckpt_interval=2, by_epoch_ckpt=False,
            workers=0, lr=0.05, nan_at=-1, custom_hooks=None, resume=False,
            safeguards=True):
    """A Runner config for the toy model; ``epochs`` or ``iters`` picks the loop."""
    from mmedge.engine import add_safeguards
    sampler = dict(type='InfiniteSampler' if iters else 'DefaultSampler', shuffle=True)
    cfg = (
        dict(
            model=dict(type=ToyModel, nan_at=nan_at),
            work_dir=str(work_dir),
            train_dataloader=dict(
                dataset=dict(type=ToyDataset, num=12),
                sampler=sampler,
                batch_size=4,
                num_workers=workers,
                persistent_workers=workers > 0,
                collate_fn=dict(type='default_collate')),
            train_cfg=dict(by_epoch=True, max_epochs=epochs) if epochs else dict(
                by_epoch=False, max_iters=iters),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=lr, momentum=0.9)),
            param_scheduler=dict(type='LinearLR', start_factor=0.5, by_epoch=False, end=4),
            default_hooks=dict(
                checkpoint=dict(type='CheckpointHook', interval=ckpt_interval,
                                by_epoch=by_epoch_ckpt),
                logger=dict(type='LoggerHook', interval=1)),
            custom_hooks=custom_hooks or [],
            randomness=dict(seed=0, deterministic=True),
            resume=resume,
            default_scope='mmengine',
            log_level='WARNING',
            cfg=dict(toy=True),
            visualizer=dict(type='Visualizer', name=f'vis_{abs(hash(str(work_dir)))}'),
            env_cfg=dict(dist_cfg=dict(backend='gloo'))))
    if safeguards:
        add_safeguards(cfg)
    return cfg


def train(cfg):
    from mmengine.runner import Runner
    runner = Runner(**cfg)
    runner.train()
    return runner


@pytest.fixture(autouse=True)
def restore_process_state():
    """Runners seed the generators and switch deterministic algorithms on: undo it (test modules
    import this fixture, which makes it apply to each of their tests)."""
    with restored_process_state():
        yield
