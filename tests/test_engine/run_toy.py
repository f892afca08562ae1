"""Subprocess entry of the SIGKILL test: the toy model, iterations paced so that a kill lands
mid-epoch.

    python run_toy.py WORK_DIR WORKERS [PAUSE_S | --resume]
"""
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.hooks import Hook  # noqa: E402

from toy_runner import toy_cfg, train  # noqa: E402


class Pace(Hook):
    """Gives the test time to SIGKILL the run between two iterations of an epoch."""

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        time.sleep(float(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] != '--resume' else 0)


if __name__ == '__main__':
    work_dir, workers = sys.argv[1], int(sys.argv[2])
    resume = '--resume' in sys.argv
    train(toy_cfg(work_dir, epochs=3, ckpt_interval=4, workers=workers, resume=resume,
                  custom_hooks=[dict(type=Pace)]))
