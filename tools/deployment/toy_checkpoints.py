"""Train configs retargeted to the toy data for a few iterations: checkpoints for measuring
what deployment changes (ONNX Runtime / INT8 / mmdeploy parity) on models that predict something.

    python tools/deployment/toy_checkpoints.py CONFIG [CONFIG ...] --iters 150 [--lr 1e-3]
        [--scale W H] [--work-dir work_dirs/toy_ckpt]

Each config goes through ``mmedge.utils.ort_eval.toy_config`` (the model and test pipeline kept,
the data replaced by the generated COCO / VOC sets, test Resize set to --scale), then trains for
--iters iterations (batch 8, AdamW --lr, 20 warm-up iterations, then constant) from a fixed seed
and writes ``<work-dir>/<config>.pth`` and ``<work-dir>/<config>.py`` (the toy config). These
are short schedules: enough to get a non-trivial metric, not the learnability benchmark.
"""
import argparse
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('configs', nargs='+')
    p.add_argument('--iters', type=int, default=150)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--scale', type=int, nargs=2, help='test Resize scale (w h)')
    p.add_argument('--work-dir', default='work_dirs/toy_ckpt')
    return p.parse_args(argv)


# segmentors train on 256 x 256 crops of the 256 x 256 toy images (the real configs crop 512+)
SEG_TRAIN_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(512, 256), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(256, 256), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]


def train_one(config, iters, lr, batch, scale, work_dir):
    import torch
    from mmengine.runner import Runner

    import mmedge  # noqa: F401
    from mmedge.utils.ort_eval import load_config, toy_config
    cfg = load_config(toy_config(config, scale))
    stem = osp.splitext(osp.basename(config))[0]
    cfg.work_dir = osp.join(work_dir, stem)
    cfg.train_dataloader.batch_size = batch
    if cfg.default_scope == 'mmseg':
        cfg.train_dataloader.dataset.pipeline = SEG_TRAIN_PIPELINE
        cfg.model.data_preprocessor.size = (256, 256)
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters + 1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.optim_wrapper = dict(type='OptimWrapper', clip_grad=dict(max_norm=10.),
                             optimizer=dict(type='AdamW', lr=lr, weight_decay=0.01))
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
                                end=20)]
    cfg.custom_hooks = []
    cfg.default_hooks = dict(
        timer=dict(type='IterTimerHook'), logger=dict(type='LoggerHook', interval=10),
        param_scheduler=dict(type='ParamSchedulerHook'),
        checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=iters,
                        max_keep_ckpts=1), sampler_seed=dict(type='DistSamplerSeedHook'))
    cfg.randomness = dict(seed=0)
    cfg.log_level = 'INFO'
    cfg.load_from = None
    cfg.resume = False
    cfg.pop('auto_scale_lr', None)
    cfg.pop('toy_data', None)
    runner = Runner.from_cfg(cfg)
    runner.train()
    os.makedirs(work_dir, exist_ok=True)
    out = osp.join(work_dir, stem + '.pth')
    torch.save({'state_dict': runner.model.state_dict(), 'meta': dict(iters=iters, lr=lr)}, out)
    cfg_out = osp.join(work_dir, stem + '.py')
    load_config(toy_config(config, scale)).dump(cfg_out)
    print(f'{stem}: {out} ({cfg_out})', flush=True)
    return out


def main(argv=None):
    args = parse_args(argv)
    return [train_one(c, args.iters, args.lr, args.batch, args.scale, args.work_dir)
            for c in args.configs]


if __name__ == '__main__':
    main()
