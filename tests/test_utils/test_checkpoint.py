"""Checkpoints load through mmedge's restricted loader: mmengine's files resume, code never
runs."""
import os
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import mmedge.utils.checkpoint as ckpt_utils


class _ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 2)

    def forward(self, inputs, labels=None, mode='tensor'):
        inputs = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.linear(inputs)
        if mode == 'loss':
            labels = torch.stack(labels) if isinstance(labels, list) else labels
            return dict(loss=((out - labels)**2).mean())
        return out


class _ToyData(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return dict(inputs=torch.randn(4, generator=g),
                    labels=torch.randn(2, generator=g))


def _runner(work_dir, max_epochs, resume=False, load_from=None):
    torch.manual_seed(0)  # same initial weights for every run
    return Runner(
        model=_ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_ToyData(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0),
        resume=resume,
        load_from=load_from,
        default_scope='mmengine',
        experiment_name=f'exp{max_epochs}{int(resume)}')


def test_resume_continues_with_same_optimizer_state(tmp_path):
    # an uninterrupted 2-epoch run ...
    full = _runner(tmp_path / 'full', 2)
    full.train()
    # ... and a run stopped after epoch 1, then resumed for epoch 2
    first = _runner(tmp_path / 'split', 1)
    first.train()
    ckpt = tmp_path / 'split' / 'epoch_1.pth'
    assert ckpt.is_file()
    resumed = _runner(tmp_path / 'split', 2, resume=True, load_from=str(ckpt))
    resumed.train()
    assert resumed.iter == full.iter == 8
    assert resumed.epoch == full.epoch == 2
    s_full = full.optim_wrapper.optimizer.state_dict()['state']
    s_res = resumed.optim_wrapper.optimizer.state_dict()['state']
    assert s_full.keys() == s_res.keys()
    for k in s_full:
        assert int(s_full[k]['step']) == int(s_res[k]['step']) == 8
        torch.testing.assert_close(s_full[k]['exp_avg'], s_res[k]['exp_avg'])
        torch.testing.assert_close(s_full[k]['exp_avg_sq'],
                                   s_res[k]['exp_avg_sq'])
    for p, q in zip(full.model.parameters(), resumed.model.parameters()):
        torch.testing.assert_close(p, q)


def test_mmengine_checkpoint_needs_mmedges_loader(tmp_path):
    """torch's default (weights_only) refuses mmengine's own checkpoint (the upstream bug);
    mmedge's restricted loader reads it, also through mmengine's CheckpointLoader."""
    runner = _runner(tmp_path, 1)
    runner.train()
    path = str(tmp_path / 'epoch_1.pth')
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)  # torch's allow-list is not widened by mmedge
    loaded = ckpt_utils.safe_load(path)
    assert 'message_hub' in loaded and 'optimizer' in loaded
    from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint
    assert CheckpointLoader._get_checkpoint_loader(path) is \
        ckpt_utils.load_from_local_restricted
    assert _load_checkpoint(path)['meta']['epoch'] == 1


class _Evil:

    def __reduce__(self):
        return (os.system, ('echo pwned > /dev/null', ))


def test_pickled_callable_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'x': _Evil()}, path)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(path)  # torch's own default
    with pytest.raises(ckpt_utils.CheckpointRefused, match='global posix.system') as info:
        ckpt_utils.safe_load(path)
    assert path in str(info.value) and 'weights_only' not in str(info.value)
    from mmengine.runner import load_checkpoint
    with pytest.raises(ckpt_utils.CheckpointRefused, match='posix.system'):
        load_checkpoint(nn.Linear(1, 1), path)


class _Getattr:
    """Pickles as ``builtins.getattr(obj, name)``, the way HistoryBuffer stores its methods."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __reduce__(self):
        return (getattr, (self.obj, self.name))


@pytest.mark.parametrize('obj,name', [
    ('HistoryBuffer', '__init__'),  # a private attribute of the allowed class
    ('HistoryBuffer', 'register_statistics'),  # a public method that changes the class
    ('Namespace', '__class__'),  # any other object
])
def test_getattr_never_reaches_a_callable(tmp_path, obj, name):
    import argparse

    from mmengine.logging import HistoryBuffer
    target = dict(HistoryBuffer=HistoryBuffer, Namespace=argparse.Namespace)
    path = str(tmp_path / 'getattr.pth')
    torch.save({'x': _Getattr(target[obj], name)}, path)
    with pytest.raises(ckpt_utils.CheckpointRefused, match='getattr'):
        ckpt_utils.safe_load(path)
    # HistoryBuffer's own statistics names are read only inside a HistoryBuffer's state;
    # on their own they are refused too (the loader never hands out a method)
    torch.save({'x': _Getattr(HistoryBuffer, 'mean')}, path)
    with pytest.raises(ckpt_utils.CheckpointRefused, match='left unbuilt'):
        ckpt_utils.safe_load(path)
