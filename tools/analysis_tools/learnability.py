"""Train toy configs from scratch within a CPU budget and record the metric they reach.

    python tools/analysis_tools/learnability.py [--budget-min 10] [--pairs det seg] \
        [--epochs N] [--parallel] [--out work_dirs/learnability.json]

Pairs (ours vs the stock OpenMMLab baseline, same generated data, schedule and budget):
  det: toy_ssdlite_edgenext_xxs_coco  vs  toy_ssdlite_mobilenetv2_coco   (COCO bbox mAP)
  seg: toy_deeplabv3_emo_1m_voc       vs  toy_deeplabv3_mobilenetv2_voc  (mIoU)
Training stops at the end of the first epoch past the budget (or at the config's last epoch /
iteration); the model is then evaluated once with the config's real metric.

``--parallel`` trains the two configs of a pair at the same time, each in its own process with
one thread (``--threads`` is then ignored): each gets one core for the budget, i.e. the same
CPU-minutes, and the pair takes half the wall time on a 2-core machine.
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


def _parse_options(options):
    """``['a.b=1', ...]`` -> dict, the way mmengine's ``--cfg-options`` reads them."""
    from mmengine.config import DictAction
    ns = argparse.Namespace(opts=None)
    if options:
        DictAction(option_strings=[], dest='opts')(None, ns, options)
    return ns.opts or {}


def _load_cfg(name, work_root, epochs=None, options=None):
    from mmengine.config import Config

    from mmedge.utils.mim import find_config
    cfg = Config.fromfile(find_config(name))
    cfg.work_dir = osp.join(work_root, name)
    # evaluate once, after training (val_begin: not even at the loop's last epoch)
    cfg.train_cfg.val_interval = 10**6
    cfg.train_cfg.val_begin = 10**9
    cfg.randomness = dict(seed=0)
    if epochs:
        _set_epochs(cfg, epochs)
    cfg.merge_from_dict(_parse_options(options))
    return cfg


def run_one(name, budget_s, work_root, threads, epochs=None, options=None):
    import torch
    from mmengine.runner import Runner

    from mmedge.utils.data_check import prepare_toy_data
    torch.set_num_threads(threads)
    cfg = _load_cfg(name, work_root, epochs, options)
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


def _run_parallel(names, args):
    """One process per config, one thread each; results come back through JSON files."""
    import subprocess

    from mmedge.utils.data_check import prepare_toy_data
    for name in names:  # generate shared data once, before the workers race for it
        prepare_toy_data(_load_cfg(name, args.work_root, args.epochs, args.cfg_options))
    procs = []
    for name in names:
        out = osp.join(args.work_root, name, 'learnability_result.json')
        os.makedirs(osp.dirname(out), exist_ok=True)
        if osp.exists(out):
            os.remove(out)
        cmd = [sys.executable, osp.abspath(__file__), '--single', name,
               '--budget-min', str(args.budget_min), '--threads', '1',
               '--work-root', args.work_root, '--out', out]
        if args.epochs:
            cmd += ['--epochs', str(args.epochs)]
        if args.cfg_options:
            cmd += ['--cfg-options', *args.cfg_options]
        env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
        log = open(osp.join(args.work_root, name + '.log'), 'w')
        procs.append((name, out, log, subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env)))
    results = []
    for name, out, log, proc in procs:
        code = proc.wait()
        log.close()
        if code or not osp.exists(out):
            raise RuntimeError(f'{name} failed (exit {code}); see {log.name}')
        with open(out) as f:
            results.append(json.load(f))
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--budget-min', type=float, default=10.)
    p.add_argument('--pairs', nargs='+', default=list(PAIRS), choices=list(PAIRS))
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--epochs', type=int,
                   help='override the schedule length (epochs; iterations for '
                   'iteration-based configs) for every config alike')
    p.add_argument('--parallel', action='store_true',
                   help='train the two configs of a pair at once, one thread each')
    p.add_argument('--work-root', default='work_dirs/learnability')
    p.add_argument('--out', default='work_dirs/learnability.json')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                   help='overrides for every config alike (mmengine syntax)')
    p.add_argument('--single', help=argparse.SUPPRESS)  # a --parallel worker
    args = p.parse_args(argv)
    if args.single:
        res = run_one(args.single, args.budget_min * 60, args.work_root,
                      args.threads, args.epochs, args.cfg_options)
        with open(args.out, 'w') as f:
            json.dump(res, f)
        return [res]
    results = []
    for pair in args.pairs:
        ours, base, key = PAIRS[pair]
        if args.parallel:
            pair_results = _run_parallel((ours, base), args)
        else:
            pair_results = [
                run_one(name, args.budget_min * 60, args.work_root,
                        args.threads, args.epochs, args.cfg_options)
                for name in (ours, base)
            ]
        for res in pair_results:
            res['metric'] = key
            res['value'] = res['metrics'].get(key)
            results.append(res)
            print(json.dumps(res), flush=True)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(dict(budget_min=args.budget_min,
                       threads=1 if args.parallel else args.threads,
                       parallel=args.parallel, epochs=args.epochs,
                       results=results), f, indent=1)
    print('\n| config | metric | value | train time (s) | epochs | iterations |\n'
          '|---|---|---:|---:|---:|---:|')
    for r in results:
        print(f"| {r['config']} | {r['metric']} | {r['value']:.3f} | "
              f"{r['train_seconds']} | {r['epochs']} | {r['iters']} |")
    return results


if __name__ == '__main__':
    main()
