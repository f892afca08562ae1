"""Train toy configs from scratch within a CPU budget and record the metric they reach.

    python tools/analysis_tools/learnability.py [--budget-min 10] [--pairs det seg] \
        [--out work_dirs/learnability.json]

Pairs (ours vs the stock OpenMMLab baseline, same generated data, schedule and budget):
  det: toy_ssdlite_edgenext_xxs_coco  vs  toy_ssdlite_mobilenetv2_coco   (COCO bbox mAP)
  seg: toy_deeplabv3_emo_1m_voc       vs  toy_deeplabv3_mobilenetv2_voc  (mIoU)
Training stops at the end of the first epoch past the budget (or at the config's last epoch /
iteration); the model is then evaluated once with the config's real metric.
"""
import argparse
import numbers
import json
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmedge  # noqa: E402,F401

PAIRS = {
    'det': ('toy_ssdlite_edgenext_xxs_coco', 'toy_ssdlite_mobilenetv2_coco',
            'coco/bbox_mAP'),
    'seg': ('toy_deeplabv3_emo_1m_voc', 'toy_deeplabv3_mobilenetv2_voc',
            'mIoU'),
}


def _budget_hook(seconds):
    from mmengine.hooks import Hook

    class TimeBudgetHook(Hook):
        """Stop training once ``seconds`` of training time have passed."""
        priority = 'LOWEST'

        def before_train(self, runner):
            self.start = time.perf_counter()

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            if time.perf_counter() - self.start > seconds:
                # epoch loops check this between epochs, iteration loops every iteration
                runner.train_loop.stop_training = True

    return TimeBudgetHook()


def _set_epochs(cfg, epochs):
    """The same longer schedule for every config of a pair: epochs and the cosine / poly span."""
    loop = cfg.train_cfg
    if 'max_epochs' in loop:
        loop.max_epochs = epochs
        for sched in cfg.param_scheduler:
            if sched.get('by_epoch', True) and 'T_max' in sched:
                sched.T_max = epochs
                sched.end = epochs
    else:
        loop.max_iters = epochs
        for sched in cfg.param_scheduler:
            if sched.get('end', 0) > 1000:
                sched.end = epochs


def run_one(name, budget_s, work_root, threads, epochs=None):
    import torch
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmedge.utils.data_check import prepare_toy_data
    torch.set_num_threads(threads)
    cfg = Config.fromfile(osp.join('configs', name + '.py'))
    cfg.work_dir = osp.join(work_root, name)
    cfg.train_cfg.val_interval = 10**6  # evaluate once, at the end
    cfg.randomness = dict(seed=0)
    if epochs:
        _set_epochs(cfg, epochs)
    prepare_toy_data(cfg)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(_budget_hook(budget_s))
    t0 = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - t0
    metrics = runner.val_loop.run()
    return dict(config=name, train_seconds=round(train_s, 1),
                epochs=runner.epoch, iters=runner.iter,
                metrics={k: float(v) for k, v in metrics.items()
                         if isinstance(v, numbers.Real)})  # numpy scalars too


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--budget-min', type=float, default=10.)
    p.add_argument('--pairs', nargs='+', default=list(PAIRS), choices=list(PAIRS))
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--epochs', type=int,
                   help='override the schedule length (epochs; iterations for '
                   'iteration-based configs) for every config alike')
    p.add_argument('--work-root', default='work_dirs/learnability')
    p.add_argument('--out', default='work_dirs/learnability.json')
    args = p.parse_args(argv)
    results = []
    for pair in args.pairs:
        ours, base, key = PAIRS[pair]
        for name in (ours, base):
            res = run_one(name, args.budget_min * 60, args.work_root,
                          args.threads, args.epochs)
            res['metric'] = key
            res['value'] = res['metrics'].get(key)
            results.append(res)
            print(json.dumps(res), flush=True)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(dict(budget_min=args.budget_min, threads=args.threads,
                       results=results), f, indent=1)
    print('\n| config | metric | value | train time (s) | epochs |\n|---|---|---:|---:|---:|')
    for r in results:
        print(f"| {r['config']} | {r['metric']} | {r['value']:.3f} | "
              f"{r['train_seconds']} | {r['epochs']} |")
    return results


if __name__ == '__main__':
    main()
