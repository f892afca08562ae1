"""Non-finite losses and weights, and foreign checkpoints, on a real mmengine Runner (toy model)."""
import os
import os.path as osp
import sys

import pytest
import torch
from mmedge.utils.checkpoint import safe_load
from mmengine.hooks import Hook

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from toy_runner import restore_process_state, toy_cfg, train  # noqa: E402,F401


def _snapshot(folder):
    return {name: open(osp.join(folder, name), 'rb').read() for name in sorted(os.listdir(folder))
            if name.endswith('.pth') or name == 'last_checkpoint'}


def test_first_non_finite_loss_stops_the_run_and_names_it(tmp_path):
    from mmedge.engine import NonFiniteLossError
    with pytest.raises(NonFiniteLossError) as info:
        train(toy_cfg(tmp_path, epochs=3, ckpt_interval=2, nan_at=5))
    msg = str(info.value)
    assert 'iteration 5 ' in msg and 'epoch 2' in msg
    assert 'loss_mse=nan' in msg and 'loss=nan' in msg and 'loss_l1=' in msg  # finite term shown
    for fix in ('lr', 'warm-up', 'clip_grad', 'loss_scale', 'check_dataset.py'):
        assert fix in msg
    # iteration 4's checkpoint is the last one; nothing after the NaN
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith('.pth')) == [
        'iter_2.pth', 'iter_4.pth']
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read().strip().endswith('iter_4.pth')
    state = safe_load(tmp_path / 'iter_4.pth')['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


class _Poison(Hook):
    """Puts a NaN into a BatchNorm buffer after iteration 3 (finite losses until then)."""
    priority = 'HIGHEST'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == 3:
            runner.model.net[1].running_var[2] = float('inf')


def test_checkpoint_with_non_finite_weights_is_never_written(tmp_path):
    from mmedge.engine import NonFiniteCheckpointError
    with pytest.raises(NonFiniteCheckpointError) as info:
        train(toy_cfg(tmp_path, epochs=3, ckpt_interval=2,
                      custom_hooks=[dict(type=_Poison)]))
    msg = str(info.value)
    assert 'state_dict.net.1.running_var' in msg and 'iteration 4' in msg
    assert 'Nothing was written (last good checkpoint: ' in msg and 'iter_2.pth' in msg
    assert not osp.exists(tmp_path / 'iter_4.pth')
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read().strip().endswith('iter_2.pth')


def test_new_run_refuses_a_work_dir_with_another_runs_checkpoints(tmp_path):
    from mmedge.engine import ForeignCheckpointError
    train(toy_cfg(tmp_path, epochs=1, ckpt_interval=2))
    before = _snapshot(tmp_path)
    assert 'last_checkpoint' in before and 'iter_2.pth' in before
    for kw in (dict(), dict(lr=1e4)):
        with pytest.raises(ForeignCheckpointError) as info:
            train(toy_cfg(tmp_path, epochs=2, ckpt_interval=2, **kw))
        msg = str(info.value)
        assert '--resume' in msg and '--work-dir' in msg and 'iter_2.pth' in msg
    assert _snapshot(tmp_path) == before  # byte for byte
    # continuing the same run is allowed
    runner = train(toy_cfg(tmp_path, epochs=2, ckpt_interval=2, resume=True))
    assert runner.iter == 6
