"""tools/train.py on tiny det / seg configs: SIGKILL mid-epoch + --resume is bit-identical to an
uninterrupted run; lr=1e4 stops at the first non-finite loss without writing a checkpoint."""
import os
import os.path as osp
import sys
import threading

import pytest
import torch
from mmedge.utils.checkpoint import safe_load
from conftest import needs_mmdet, needs_mmpretrain, needs_mmseg

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, osp.join(ROOT, 'tools'))
sys.path.insert(0, HERE)

from process_state import restored_process_state  # noqa: E402
from resume_harness import kill_after_checkpoint  # noqa: E402
from tiny_configs import write_cls, write_det, write_seg  # noqa: E402


@pytest.fixture
def in_process():
    """tools/train.py's main in this process, 1 thread like the subprocesses; the process state a
    Runner changes is put back afterwards."""
    import train as train_tool
    with restored_process_state(threads=1):
        yield train_tool.main


def _kill_in_background(cfg, work, ckpt):
    result = {}

    def target():
        try:
            result['killed'] = kill_after_checkpoint(
                [osp.join(ROOT, 'tools', 'train.py'), cfg, '--work-dir', work], work, ckpt)
        except BaseException as exc:  # noqa: BLE001  (re-raised in the test)
            result['error'] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, result


def _compare(a_path, b_path):
    a = safe_load(a_path)
    b = safe_load(b_path)
    assert a['meta']['iter'] == b['meta']['iter']
    sa, sb = a['state_dict'], b['state_dict']
    assert sa.keys() == sb.keys()
    diff = {k: float((sa[k].double() - sb[k].double()).abs().max()) for k in sa
            if not torch.equal(sa[k], sb[k])}
    assert not diff, f'{len(diff)} tensors differ, e.g. {dict(list(diff.items())[:5])}'
    for (ka, va), (kb, vb) in zip(a['optimizer']['state'].items(),
                                  b['optimizer']['state'].items()):
        assert all(torch.equal(va[n], vb[n]) for n in va if torch.is_tensor(va[n]))


def _sigkill_resume(tmp_path, write, final, ckpt, main):
    data = tmp_path / 'data'
    # the killed run generates the data first; the others reuse it (same stamp)
    cfg = write(tmp_path, data, tag=tmp_path.name[-20:])
    from mmengine.config import Config

    from mmedge.utils.data_check import prepare_toy_data
    prepare_toy_data(Config.fromfile(cfg))
    work_a, work_b = str(tmp_path / 'a'), str(tmp_path / 'b')
    thread, result = _kill_in_background(cfg, work_b, ckpt)
    main([cfg, '--work-dir', work_a, '--cfg-options', 'visualizer.name=vis_' + work_a])
    thread.join()
    if 'error' in result:
        raise result['error']
    assert result['killed'] and not osp.exists(osp.join(work_b, final))
    main([cfg, '--work-dir', work_b, '--resume', '--cfg-options',
          'visualizer.name=vis_' + work_b])
    _compare(osp.join(work_a, final), osp.join(work_b, final))


@needs_mmdet
def test_det_sigkill_mid_epoch_resume_is_bit_identical(tmp_path, in_process):
    # SSDLite + EdgeNeXt-XXS, 3 iterations per epoch, 2 epochs, checkpoint at iteration 4
    # (epoch 2, batch 1 of 3): killed during iteration 5, resumed, compared at iteration 6
    _sigkill_resume(tmp_path, write_det, 'iter_6.pth', 'iter_4.pth', in_process)


@needs_mmseg
def test_seg_sigkill_resume_is_bit_identical(tmp_path, in_process):
    # DeepLabv3 + EMO-1M, iteration loop with InfiniteSampler (3 images per pass), validation
    # at iteration 3, checkpoint at iteration 4: killed during iteration 5
    _sigkill_resume(tmp_path, write_seg, 'iter_6.pth', 'iter_4.pth', in_process)


def _nan_run(tmp_path, write, main):
    from mmedge.engine import NonFiniteLossError
    cfg = write(tmp_path, tmp_path / 'data', tag=tmp_path.name[-20:])
    work = str(tmp_path / 'work')
    with pytest.raises(NonFiniteLossError) as info:
        main([cfg, '--work-dir', work, '--cfg-options', 'optim_wrapper.optimizer.lr=1e4',
              'visualizer.name=vis_' + work])
    ckpts = [f for f in os.listdir(work) if f.endswith('.pth')]
    return str(info.value), ckpts


@needs_mmdet
def test_det_lr_1e4_stops_at_the_first_non_finite_loss(tmp_path, in_process):
    msg, ckpts = _nan_run(tmp_path, write_det, in_process)
    assert 'Non-finite loss at iteration ' in msg and ('loss_cls' in msg or 'loss_bbox' in msg)
    assert 'clip_grad' in msg and 'images of this batch' in msg
    # AdamW at lr 1e4 breaks the weights in the first steps: stopped before any checkpoint
    assert not ckpts


@needs_mmseg
def test_seg_lr_1e4_stops_at_the_first_non_finite_loss(tmp_path, in_process):
    msg, ckpts = _nan_run(tmp_path, write_seg, in_process)
    assert 'Non-finite loss at iteration ' in msg and 'decode.loss_ce' in msg
    assert not ckpts


@needs_mmpretrain
def test_cls_lr_1e4_stops_at_the_first_non_finite_loss(tmp_path, in_process):
    def write(tmp, data, tag):
        return write_cls(tmp, data, tag=tag)
    msg, ckpts = _nan_run(tmp_path, write, in_process)
    assert 'Non-finite loss at iteration ' in msg and 'loss=nan' in msg
    assert 'no checkpoint was written before' in msg and not ckpts
