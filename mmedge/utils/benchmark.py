"""Parameters, FLOPs, latency, throughput and peak memory of a backbone or a model.

One FLOP counter, named: fvcore's ``FlopCountAnalysis(...).total()`` (1 per multiply-add of
conv / linear / matmul / einsum plus fvcore's norm handles), the counter the EdgeNeXt, EMO and
RepNeXt authors use and the one ``reference/facts.json`` lists as "fvcore MACs".  When fvcore is not
installed, ``torch.utils.flop_counter`` FLOPs / 2 (conv / matmul only) is reported under another name.
"""
import contextlib
import gc
import os
import statistics
import time
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn

__all__ = ['count_params', 'count_macs', 'measure_latency', 'measure_latency_interleaved',
           'benchmark_model',
           'build_backbone', 'build_model_from_config', 'TensorForward',
           'zoo_table_main', 'macs_without_attention']


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _sdpa_macs(inputs, outputs):
    """fvcore handle: ``scaled_dot_product_attention`` as the two matmuls it replaces.

    q (..., Lq, d), k (..., Lk, d), v (..., Lk, dv): q @ k^T costs Lq * Lk * d multiply-adds per
    batch / head and attn @ v costs Lq * Lk * dv, exactly what fvcore counts for the explicit
    matmuls of the authors' code.
    """
    from fvcore.nn.jit_handles import get_shape
    q, k, v = (get_shape(inputs[i]) for i in range(3))
    batch = 1
    for dim in q[:-2]:
        batch *= dim
    lq, d = q[-2], q[-1]
    lk, dv = k[-2], v[-1]
    return batch * lq * lk * (d + dv)


def _baddbmm_macs(inputs, outputs):
    """fvcore handle: ``baddbmm(c, a, b)`` costs ``B * n * m * p`` for a (B, n, m), b (B, m, p).

    fvcore has none, so it would count nothing for EdgeNeXt's XCA output ``v @ (W_proj attn)^T``
    (the official code's ``attn @ v`` and ``proj`` Linear in one product).
    """
    from fvcore.nn.jit_handles import get_shape
    a, b = get_shape(inputs[1]), get_shape(inputs[2])
    return a[0] * a[1] * a[2] * b[2]


def count_macs(model: nn.Module, inputs: torch.Tensor):
    """``(macs, counter_name)`` for one forward of ``inputs``."""
    model.eval()
    try:
        from fvcore.nn import FlopCountAnalysis
    except ImportError:
        from torch.utils.flop_counter import FlopCounterMode
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(inputs)
        return counter.get_total_flops() / 2, 'torch_flop_counter/2'
    analysis = FlopCountAnalysis(model, inputs)
    analysis.set_op_handle('aten::scaled_dot_product_attention', _sdpa_macs)
    analysis.set_op_handle('aten::baddbmm', _baddbmm_macs)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    with torch.no_grad():
        return float(analysis.total()), 'fvcore'


_ATTENTION_OPS = ('aten::matmul', 'aten::bmm', 'aten::einsum',
                  'aten::scaled_dot_product_attention')


def macs_without_attention(model: nn.Module, inputs: torch.Tensor) -> float:
    """fvcore MACs with the attention products left out (what mmcv's module hooks count,
    i.e. the counter behind several papers' FLOPs)."""
    from fvcore.nn import FlopCountAnalysis
    analysis = FlopCountAnalysis(model.eval(), inputs)
    analysis.set_op_handle(**{op: None for op in _ATTENTION_OPS})
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    with torch.no_grad():
        return float(analysis.total())


@torch.no_grad()
def _sync(inputs: torch.Tensor) -> None:
    if inputs.is_cuda:  # CUDA kernels run asynchronously: time finished work only
        torch.cuda.synchronize(inputs.device)


def measure_latency(model: nn.Module,
                    inputs: torch.Tensor,
                    runs: int = 20,
                    warmup: int = 5,
                    amp: Optional[str] = None) -> Dict[str, float]:
    """Median / min / mean seconds of ``runs`` eval-mode forwards after ``warmup``.

    ``amp``: None, ``'fp16'`` or ``'bf16'``, a forward under ``torch.autocast`` on the inputs'
    device. On CUDA every timed forward ends with a synchronisation.
    """
    return measure_latency_interleaved([model], inputs, runs, warmup, amp)[0]


def measure_latency_interleaved(models: Sequence[nn.Module],
                                inputs: torch.Tensor,
                                runs: int = 20,
                                warmup: int = 5,
                                amp: Optional[str] = None) -> List[Dict[str, float]]:
    """:func:`measure_latency` of several models with their forwards alternating, so that a
    change of machine load during the measurement affects all of them alike."""
    dtype = AMP_DTYPES[amp]
    ctx = (lambda: torch.autocast(inputs.device.type, dtype=dtype)) if dtype else (
        contextlib.nullcontext)
    for model in models:
        model.eval()
    times = [[] for _ in models]
    with torch.no_grad(), ctx():
        for model in models:
            for _ in range(warmup):
                model(inputs)
        _sync(inputs)
        for _ in range(runs):
            for model, t in zip(models, times):
                t0 = time.perf_counter()
                model(inputs)
                _sync(inputs)
                t.append(time.perf_counter() - t0)
    return [dict(median=statistics.median(t), min=min(t), mean=statistics.fmean(t))
            for t in times]


def _peak_rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.


@torch.no_grad()
def peak_memory_mb(model: nn.Module, inputs: torch.Tensor) -> float:
    """Peak memory (MB) of one forward: CUDA allocator peak, or on CPU the torch profiler's
    largest live total of self-allocated tensor memory."""
    model.eval()
    if inputs.is_cuda:
        torch.cuda.reset_peak_memory_stats()
        model(inputs)
        return torch.cuda.max_memory_allocated() / 2**20
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        model(inputs)
    # walk the allocation events in time order and keep the largest running total
    events = sorted(
        (e for e in prof.events() if e.cpu_memory_usage != 0),
        key=lambda e: e.time_range.start)
    live = peak = 0
    for e in events:
        live += e.cpu_memory_usage
        peak = max(peak, live)
    return peak / 2**20


def build_backbone(family: str, arch: str, **kwargs) -> nn.Module:
    """A backbone by family and variant name (``'edgenext', 'small'``; see
    :func:`mmedge.utils.families.resolve_variant`)."""
    from mmedge.utils.families import resolve_variant
    fam, arch = resolve_variant(family, arch)
    return fam.build(arch, **kwargs)


class TensorForward(nn.Module):
    """A downstream model's backbone + neck + head forward on a plain tensor."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x):
        out = self.model(x, mode='tensor')
        if isinstance(out, torch.Tensor):
            return (out, )
        flat = []
        for item in out:  # detectors return lists (per level) of tensors
            if isinstance(item, (list, tuple)):
                flat.extend(item)
            else:
                flat.append(item)
        return tuple(flat)


def _quiet_init_weights(model: nn.Module) -> None:
    """``init_weights()`` without mmengine's one-line-per-parameter INFO dump on the console."""
    import logging

    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)


def build_model_from_config(path: str, checkpoint: Optional[str] = None):
    """Build a config's model under its default scope (SyncBN reverted; pretrained init off).

    Returns:
        tuple: ``(TensorForward(model), model)``.
    """
    import copy
    import importlib

    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import DefaultScope
    cfg = Config.fromfile(path)
    scope = cfg.get('default_scope', 'mmengine')
    registry = importlib.import_module(f'{scope}.registry').MODELS
    model_cfg = copy.deepcopy(cfg.model)
    if model_cfg.get('backbone', {}).get('init_cfg'):
        model_cfg['backbone']['init_cfg'] = None
    with DefaultScope.overwrite_default_scope(scope):
        model = revert_sync_batchnorm(registry.build(model_cfg))
    _quiet_init_weights(model)
    if checkpoint:
        from mmengine.runner import load_checkpoint
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return TensorForward(model.eval()), model


AMP_DTYPES = {None: None, 'none': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}


def benchmark_model(model: nn.Module,
                    size: Sequence[int] = (224, 224),
                    batch: int = 1,
                    throughput_batch: int = 16,
                    runs: int = 20,
                    warmup: int = 5,
                    threads: Optional[int] = None,
                    device: str = 'cpu',
                    flops: bool = True,
                    memory: bool = True,
                    amp: Optional[str] = None,
                    compile: bool = False,
                    latency: bool = True,
                    timed: Optional[nn.Module] = None) -> dict:
    """Everything the benchmark table reports for one model at one input size.

    ``amp`` (``'fp16'`` / ``'bf16'``) times the forwards under autocast and ``compile`` times
    ``torch.compile(model)`` (its compilation happens in the warm-up); params, MACs and memory
    are always those of the plain fp32 model. ``latency=False`` leaves the batch-1 latency to
    the caller (e.g. :func:`measure_latency_interleaved` over several forms); ``timed`` is
    that caller's ``torch.compile(model)``, so that the model is compiled only once.
    """
    if threads:
        torch.set_num_threads(threads)
    if amp not in AMP_DTYPES:
        raise ValueError(f'amp must be one of {sorted(k for k in AMP_DTYPES if k)}, got {amp!r}')
    model = model.to(device).eval()
    h, w = size
    x = torch.randn(batch, 3, h, w, device=device)
    result = dict(params=count_params(model), size=f'{h}x{w}',
                  threads=torch.get_num_threads(), device=device,
                  amp=AMP_DTYPES[amp] and amp, compiled=compile)
    if flops:
        macs, counter = count_macs(model, torch.randn(1, 3, h, w,
                                                      device=device))
        result.update(gmacs=macs / 1e9, flop_counter=counter)
    if timed is None:
        timed = torch.compile(model) if compile else model
    if latency:
        lat = measure_latency(timed, x, runs=runs, warmup=warmup, amp=amp)
        result.update(latency_ms=lat['median'] * 1e3, latency_min_ms=lat['min'] * 1e3)
    if throughput_batch:
        xb = torch.randn(throughput_batch, 3, h, w, device=device)
        t = measure_latency(timed, xb, runs=max(3, runs // 4), warmup=2, amp=amp)
        result['throughput_img_s'] = throughput_batch / t['median']
        result['throughput_batch'] = throughput_batch
        result['us_per_img'] = t['median'] / throughput_batch * 1e6
    if memory:
        result['peak_mem_mb'] = peak_memory_mb(model, x)
    gc.collect()
    return result


def zoo_table_main(argv, description, default_configs, measure, table,
                   script, default_out):
    """The command line shared by the model-zoo table tools (det and seg).

    ``measure(path, flops=bool) -> row`` is run for every config (``default_configs()`` unless
    ``--configs`` is given) and ``table(rows, command) -> str`` renders the markdown.
    """
    import argparse
    import os
    import os.path as osp
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--configs', nargs='+', help='default: every config of the task')
    p.add_argument('--out', help='write the markdown table here')
    p.add_argument('--no-flops', action='store_true')
    p.add_argument('--threads', type=int, default=os.cpu_count())
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    import mmedge  # noqa: F401
    from mmengine.logging import MMLogger
    MMLogger.get_instance('mmengine', log_level='WARNING')  # no init_weights log
    rows = []
    for path in args.configs or default_configs():
        stem = osp.splitext(osp.basename(path))[0]
        row = measure(path, flops=not args.no_flops)
        rows.append((stem, row))
        print(stem, row, flush=True)
    command = f'python {script} --out ' + (args.out or default_out)
    text = table(rows, command)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            f.write(text)
    else:
        print(text)
    return rows
