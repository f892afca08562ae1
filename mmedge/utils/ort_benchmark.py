"""PyTorch eager next to ONNX Runtime fp32 and int8, timed interleaved on CPU.

:func:`latency_forms` times any set of callables on the same input, forward by forward in turn
(so that a load change on a shared machine hits every form alike); :func:`backbone_forms`
exports a backbone (deploy form) to ONNX, quantizes it (static QDQ int8, random calibration:
speed only) and times eager / ort-fp32 / ort-int8 at each size; :func:`end_to_end` times a
detector config image by image over its test set: loading + test pipeline + data_preprocessor +
model + post-processing, with PyTorch (``model.test_step``) and the exported ONNX models.
"""
import os
import os.path as osp
import statistics
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

__all__ = ['latency_forms', 'backbone_forms', 'end_to_end']


def latency_forms(forms: Dict[str, Callable[[], object]], runs: int = 10,
                  warmup: int = 3) -> Dict[str, Dict[str, float]]:
    """``{name: {median_ms, min_ms}}`` of zero-argument callables, interleaved run by run."""
    times = {k: [] for k in forms}
    for fn in forms.values():
        for _ in range(warmup):
            fn()
    for _ in range(runs):
        for name, fn in forms.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: dict(median_ms=1e3 * statistics.median(v), min_ms=1e3 * min(v))
            for k, v in times.items()}


def backbone_forms(family: str, arch: str, sizes: Sequence[int] = (224, 512), runs: int = 10,
                   warmup: int = 3, threads: int = 1, int8: bool = True,
                   workdir: Optional[str] = None, calib_num: int = 8) -> List[dict]:
    """One row per size: eager (deploy form) / ONNX Runtime fp32 / int8 latency at batch 1."""
    from mmedge.utils.benchmark import build_backbone
    from mmedge.utils.onnx_export import export_onnx
    from mmedge.utils.ort_eval import CalibrationReader, OrtSession, quantize_int8
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_backbone(family, arch)
    model.init_weights()
    model.switch_to_deploy()
    model.eval()
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory()
        workdir = tmp.name
    os.makedirs(workdir, exist_ok=True)
    stem = f'{family}_{arch}'.replace('.', '_')
    fp32 = osp.join(workdir, stem + '.onnx')
    t0 = time.perf_counter()
    export_onnx(model, fp32, (sizes[0], sizes[0]))
    sessions = {'ort_fp32': OrtSession(fp32, threads)}
    info = dict(export_s=time.perf_counter() - t0)
    if int8:
        int8_path = osp.join(workdir, stem + '_int8.onnx')
        t0 = time.perf_counter()
        calib = CalibrationReader.random([(s, s) for s in sizes], calib_num)
        info['quantization'] = quantize_int8(fp32, int8_path, calib)
        info['quantize_s'] = time.perf_counter() - t0
        sessions['ort_int8'] = OrtSession(int8_path, threads)
    rows = []
    for size in sizes:
        x = torch.randn(1, 3, size, size)
        xn = x.numpy()

        def eager(x=x):
            with torch.no_grad():
                return model(x)

        forms = {'eager': eager}
        for name, sess in sessions.items():
            forms[name] = (lambda s=sess: s(xn))
        lat = latency_forms(forms, runs, warmup)
        row = dict(variant=f'{family}:{arch}', size=size, threads=threads, runs=runs,
                   **{f'{k}_ms': v['median_ms'] for k, v in lat.items()},
                   **{f'{k}_min_ms': v['min_ms'] for k, v in lat.items()})
        for name in sessions:
            row[f'{name}_ratio'] = row[f'{name}_ms'] / row['eager_ms']
        row.update(info)
        rows.append(row)
    if tmp is not None:
        tmp.cleanup()
    return rows


def end_to_end(entries: Dict[str, dict], threads: int = 1, max_samples: int = 16,
               warmup: int = 2) -> Dict[str, Dict[str, dict]]:
    """Per-image end-to-end latency over the configs' test sets, every form of every config
    interleaved image by image.

    ``entries``: ``{label: dict(cfg=Config, onnx={name: path}, checkpoint=None)}``; PyTorch
    eager (``model.test_step``, backbone in its deploy form) is always timed as ``eager``.
    Every form loads the image and runs the test pipeline itself (``pipeline_ms``), then the
    data_preprocessor, the model and the post-processing (``model_and_post_ms``).
    Returns ``{label: {form: {total_ms, pipeline_ms, model_and_post_ms, images}}}``.
    """
    import copy

    from mmengine.dataset import pseudo_collate

    from mmedge.utils.ort_eval import (OrtSession, _build_dataset, build_model,
                                       ort_predictor, pytorch_predictor)
    torch.set_num_threads(threads)
    forms = []  # (label, form, dataset, predict)
    for label, entry in entries.items():
        cfg = entry['cfg']
        dataset = _build_dataset(cfg, copy.deepcopy(cfg.test_dataloader.dataset))
        model = build_model(cfg, entry.get('checkpoint'), deploy=True)
        forms.append((label, 'eager', dataset, pytorch_predictor(model)))
        for name, path in entry.get('onnx', {}).items():
            forms.append((label, name, dataset, ort_predictor(cfg, OrtSession(path, threads))))
    n = min([max_samples] + [len(f[2]) for f in forms])
    total = {f[:2]: [] for f in forms}
    pipe = {f[:2]: [] for f in forms}
    for i in range(-warmup, n):
        for label, name, dataset, predict in forms:
            t0 = time.perf_counter()
            batch = pseudo_collate([dataset[max(i, 0)]])
            t1 = time.perf_counter()
            predict(batch)
            t2 = time.perf_counter()
            if i >= 0:
                total[label, name].append(t2 - t0)
                pipe[label, name].append(t1 - t0)
    out = {}
    for key in total:
        out.setdefault(key[0], {})[key[1]] = dict(
            total_ms=1e3 * statistics.median(total[key]),
            pipeline_ms=1e3 * statistics.median(pipe[key]),
            model_and_post_ms=1e3 * statistics.median(
                np.subtract(total[key], pipe[key]).tolist()),
            images=n)
    return out
