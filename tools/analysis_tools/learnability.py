"""Train toy configs from scratch within a CPU budget and record the metric they reach.

    python tools/analysis_tools/learnability.py [--budget-min 10] [--pairs det seg] \
        [--epochs N] [--parallel] [--settings default any-colour small occluded] \
        [--clock wall|cpu] [--out work_dirs/learnability.json]

Pairs (ours vs the stock OpenMMLab baseline, same generated data, schedule and budget):
  det: toy_ssdlite_edgenext_xxs_coco  vs  toy_ssdlite_mobilenetv2_coco   (COCO bbox mAP)
  seg: toy_deeplabv3_emo_1m_voc       vs  toy_deeplabv3_mobilenetv2_voc  (mIoU)
Training stops at the end of the first epoch past the budget (or at the config's last epoch /
iteration); the model is then evaluated once with the config's real metric.

``--parallel`` trains the two configs of a pair at the same time, each in its own process with
one thread (``--threads`` is then ignored): each gets one core for the budget, i.e. the same
CPU-minutes, and the pair takes half the wall time on a 2-core machine.

``--settings`` repeats every pair on other generator settings (``SETTINGS``; each writes its own
data set next to the work dirs; ``default`` is the config's own ``toy_data``). ``--clock cpu``
counts the budget in CPU seconds of the training process and its data-loader workers instead of
wall seconds, so that a machine shared with other jobs gives about the iterations an idle one
would.
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

# Generator settings (overrides of the configs' ``toy_data``, see generate_toy_dataset).
SETTINGS = {
    'default': {},  # the tuned set: a hue family per class, 0.2-0.5 of the side, <= 3 shapes
    'any-colour': dict(class_colours=False),  # the class is in the shape alone
    'small': dict(object_size=(0.1, 0.25)),  # half the size
    'occluded': dict(max_objects=5, max_overlap=1.0),  # more shapes, free occlusion
}

PAIRS = {
    'det': ('toy_ssdlite_edgenext_xxs_coco', 'toy_ssdlite_mobilenetv2_coco',
            'coco/bbox_mAP'),
    'seg': ('toy_deeplabv3_emo_1m_voc', 'toy_deeplabv3_mobilenetv2_voc',
            'mIoU'),
}


def cpu_seconds():
    """CPU time (user + system) of this process and of its children, live or ended."""
    import psutil
    proc = psutil.Process()
    t = proc.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in proc.children(recursive=True):
        try:
            c = child.cpu_times()
        except psutil.Error:  # ended in between
            continue
        total += c.user + c.system
    return total


CLOCKS = {'wall': time.perf_counter, 'cpu': cpu_seconds}


def _budget_hook(seconds, clock='wall'):
    from mmengine.hooks import Hook
    now = CLOCKS[clock]

    class TimeBudgetHook(Hook):
        """Stop training once ``seconds`` of training time (wall or CPU) have passed."""
        priority = 'LOWEST'

        def before_train(self, runner):
            self.start = now()
            self.used = 0.

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            self.used = now() - self.start
            if self.used > seconds:
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


def _setting_root(work_root, setting):
    return work_root if setting == 'default' else osp.join(work_root, setting)


def _replace_prefix(obj, old, new):
    """``obj`` with every string that starts with ``old`` starting with ``new`` instead."""
    if isinstance(obj, str):
        return new + obj[len(old):] if obj.startswith(old) else obj
    if isinstance(obj, dict):
        return {k: _replace_prefix(v, old, new) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_replace_prefix(v, old, new) for v in obj)
    return obj


def _apply_setting(cfg, setting, work_root):
    """Point the config at the data set of a generator ``setting`` (its own folder)."""
    if setting == 'default':
        return
    if setting not in SETTINGS:
        raise ValueError(f'unknown setting {setting!r}; choose from {list(SETTINGS)}')
    if 'toy_data' not in cfg:
        raise ValueError('--settings needs a toy config (one with toy_data)')
    old = cfg.toy_data.root
    new = osp.join(work_root, 'data', f'{cfg.toy_data.format}_{setting}') + '/'
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'val_evaluator', 'test_evaluator'):
        if cfg.get(key) is not None:
            cfg[key] = _replace_prefix(cfg[key].to_dict() if hasattr(cfg[key], 'to_dict')
                                       else cfg[key], old, new)
    cfg.toy_data = dict(cfg.toy_data, root=new, **SETTINGS[setting])


def _load_cfg(name, work_root, epochs=None, options=None, setting='default'):
    from mmengine.config import Config

    from mmedge.utils.mim import find_config
    cfg = Config.fromfile(find_config(name))
    cfg.work_dir = osp.join(_setting_root(work_root, setting), name)
    # evaluate once, after training (val_begin: not even at the loop's last epoch)
    cfg.train_cfg.val_interval = 10**6
    cfg.train_cfg.val_begin = 10**9
    cfg.randomness = dict(seed=0)
    if epochs:
        _set_epochs(cfg, epochs)
    cfg.merge_from_dict(_parse_options(options))
    _apply_setting(cfg, setting, work_root)  # after the options: it moves their data root
    return cfg


def run_one(name, budget_s, work_root, threads, epochs=None, options=None,
            setting='default', clock='wall'):
    import torch
    from mmengine.runner import Runner

    from mmedge.utils.data_check import prepare_toy_data
    torch.set_num_threads(threads)
    cfg = _load_cfg(name, work_root, epochs, options, setting)
    prepare_toy_data(cfg)
    runner = Runner.from_cfg(cfg)
    budget = _budget_hook(budget_s, clock)
    runner.register_hook(budget)
    t0, c0 = time.perf_counter(), cpu_seconds()
    runner.train()
    train_s, cpu_s = time.perf_counter() - t0, cpu_seconds() - c0
    metrics = runner.val_loop.run()
    return dict(config=name, setting=setting, clock=clock,
                train_seconds=round(train_s, 1), train_cpu_seconds=round(cpu_s, 1),
                epochs=runner.epoch, iters=runner.iter,
                metrics={k: float(v) for k, v in metrics.items()
                         if isinstance(v, numbers.Real)})  # numpy scalars too


def _run_parallel(names, args, setting='default'):
    """One process per config, one thread each; results come back through JSON files."""
    import subprocess

    from mmedge.utils.data_check import prepare_toy_data
    for name in names:  # generate shared data once, before the workers race for it
        prepare_toy_data(_load_cfg(name, args.work_root, args.epochs, args.cfg_options,
                                   setting))
    procs = []
    root = _setting_root(args.work_root, setting)
    for name in names:
        out = osp.join(root, name, 'learnability_result.json')
        os.makedirs(osp.dirname(out), exist_ok=True)
        if osp.exists(out):
            os.remove(out)
        cmd = [sys.executable, osp.abspath(__file__), '--single', name,
               '--budget-min', str(args.budget_min), '--threads', '1',
               '--work-root', args.work_root, '--out', out,
               '--settings', setting, '--clock', args.clock]
        if args.epochs:
            cmd += ['--epochs', str(args.epochs)]
        if args.cfg_options:
            cmd += ['--cfg-options', *args.cfg_options]
        env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
        log = open(osp.join(root, name + '.log'), 'w')
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
    p.add_argument('--settings', nargs='+', default=['default'],
                   choices=list(SETTINGS),
                   help='generator settings to run every pair on (each its own data)')
    p.add_argument('--clock', choices=list(CLOCKS), default='wall',
                   help='what the budget counts: wall seconds, or CPU seconds of the '
                   'training process and its data workers')
    p.add_argument('--single', help=argparse.SUPPRESS)  # a --parallel worker
    args = p.parse_args(argv)
    if args.single:
        res = run_one(args.single, args.budget_min * 60, args.work_root,
                      args.threads, args.epochs, args.cfg_options,
                      args.settings[0], args.clock)
        with open(args.out, 'w') as f:
            json.dump(res, f)
        return [res]
    results = []
    for setting in args.settings:
        for pair in args.pairs:
            ours, base, key = PAIRS[pair]
            if args.parallel:
                pair_results = _run_parallel((ours, base), args, setting)
            else:
                pair_results = [
                    run_one(name, args.budget_min * 60, args.work_root,
                            args.threads, args.epochs, args.cfg_options,
                            setting, args.clock)
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
                       parallel=args.parallel, epochs=args.epochs, clock=args.clock,
                       settings={s: SETTINGS[s] for s in args.settings},
                       results=results), f, indent=1)
    print('\n| setting | config | metric | value | train time (s) | train CPU (s) '
          '| epochs | iterations |\n|---|---|---|---:|---:|---:|---:|---:|')
    for r in results:
        print(f"| {r['setting']} | {r['config']} | {r['metric']} | {r['value']:.3f} | "
              f"{r['train_seconds']} | {r['train_cpu_seconds']} | {r['epochs']} | "
              f"{r['iters']} |")
    return results


if __name__ == '__main__':
    main()
