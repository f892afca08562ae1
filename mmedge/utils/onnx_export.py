"""Export a backbone (deploy form) to ONNX with dynamic H x W and check it in onnxruntime."""
import time
from typing import Dict, Sequence

import numpy as np
import torch
import torch.nn as nn

__all__ = ['export_onnx', 'verify_onnx']


class _TupleOut(nn.Module):
    """Return the features as a tuple (ONNX outputs ``feat0..featN``)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return tuple(self.model(x))


def export_onnx(model: nn.Module,
                path: str,
                size: Sequence[int] = (224, 224),
                opset: int = 17,
                dynamic: bool = True) -> Sequence[str]:
    """Export ``model`` (eval mode) with input ``input`` of shape (N, 3, H, W), dynamic N/H/W."""
    model = _TupleOut(model.eval())
    x = torch.randn(1, 3, *size)
    with torch.no_grad():
        n_out = len(model(x))
    outputs = [f'feat{i}' for i in range(n_out)]
    axes = {'input': {0: 'batch', 2: 'height', 3: 'width'}}
    for name in outputs:
        axes[name] = {0: 'batch', 2: f'{name}_h', 3: f'{name}_w'}
    kwargs = dict(
        input_names=['input'],
        output_names=outputs,
        opset_version=opset,
        dynamic_axes=axes if dynamic else None)
    try:
        torch.onnx.export(model, (x, ), path, dynamo=False, **kwargs)
    except TypeError:  # torch without the `dynamo` switch
        torch.onnx.export(model, (x, ), path, **kwargs)
    return outputs


def verify_onnx(model: nn.Module,
                path: str,
                sizes: Sequence[Sequence[int]] = ((224, 224), (256, 320)),
                runs: int = 10,
                threads: int = 1) -> Dict[str, float]:
    """Compare onnxruntime (CPU) with PyTorch eager; returns max relative error and latencies."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, opts, providers=['CPUExecutionProvider'])
    torch.set_num_threads(threads)
    model = model.eval()
    worst = 0.
    result = {}
    for size in sizes:
        x = torch.randn(1, 3, *size)
        with torch.no_grad():
            ref = [t.numpy() for t in model(x)]
        got = sess.run(None, {'input': x.numpy()})
        for r, g in zip(ref, got):
            if r.shape != g.shape:
                raise AssertionError(f'shape {g.shape} != {r.shape} at {size}')
            err = float(np.abs(r - g).max() / (np.abs(r).max() + 1e-12))
            worst = max(worst, err)
    x = torch.randn(1, 3, *sizes[0])
    xn = x.numpy()
    t_torch, t_ort = [], []
    with torch.no_grad():
        for _ in range(3):
            model(x)
            sess.run(None, {'input': xn})
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x)
            t_torch.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            sess.run(None, {'input': xn})
            t_ort.append(time.perf_counter() - t0)
    result.update(
        max_rel_err=worst,
        torch_ms=float(np.median(t_torch) * 1e3),
        ort_ms=float(np.median(t_ort) * 1e3))
    result['speedup'] = result['torch_ms'] / result['ort_ms']
    return result
