"""Export mmedge models to ONNX: backbones, and whole detectors / segmentors ready to deploy.

* :func:`export_onnx` writes a backbone (or any module returning tensors) with dynamic N / H / W.
* :class:`DetectorForExport` wraps an mmdet single-stage detector (SSD / SSDLite, RetinaNet,
  YOLOX) so that the graph ends with the head's own box decoding and class-aware NMS (the ONNX
  ``NonMaxSuppression`` op) and returns ``boxes (N, K, 4)``, ``scores (N, K)``, ``labels (N, K)``
  per image, padded to ``K = test_cfg.max_per_img`` (padding: score 0, label -1).
* :class:`SegmentorForExport` wraps an mmseg encoder-decoder so that the graph returns the label
  map ``(N, H, W)`` (logits resized to the input, then argmax).
* :func:`export_deployable` builds the right wrapper and writes the file.

The graphs take what the config's ``data_preprocessor`` produces (normalised, RGB / BGR as the
config says, padded): pre-processing and the final rescale to the original image stay outside,
as in mmdeploy, so that ``tools/deployment/test_onnx.py`` reuses the config's own pipeline.
"""
import time
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['export_onnx', 'verify_onnx', 'onnx_export', 'ONNXNMS', 'batched_nms_padded',
           'DetectorForExport', 'SegmentorForExport', 'wrap_for_export', 'export_deployable']


def onnx_export(model: nn.Module, args: tuple, path: str, **kwargs) -> None:
    """``torch.onnx.export`` with the TorchScript exporter (``dynamo=False``).

    torch >= 2.9 defaults to the dynamo exporter, which needs onnxscript and does not run
    ``torch.autograd.Function.symbolic`` (our NMS); older torch has no ``dynamo`` switch.
    mmseg's ``Upsample`` (FPNHead) is traced size-agnostic (:mod:`mmedge.utils.export_rewrites`).
    """
    from .export_rewrites import trace_safe_upsample
    with trace_safe_upsample():
        try:
            torch.onnx.export(model, args, path, dynamo=False, **kwargs)
        except TypeError as exc:  # torch without the `dynamo` switch
            if 'dynamo' not in str(exc):
                raise
            torch.onnx.export(model, args, path, **kwargs)


class _TupleOut(nn.Module):
    """Return the features as a tuple (ONNX outputs ``feat0..featN``)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return tuple(self.model(x))


# opset 20 has a Gelu op with approximate='tanh': EfficientViT-L's tanh GELU then runs as one
# fused ONNX Runtime kernel instead of the ten elementwise nodes opset 17 spells it with
# (EfficientViT-L1 at 224, 1 thread: 126 -> 85 ms, same outputs); no other family changes
DEFAULT_OPSET = 20


def export_onnx(model: nn.Module,
                path: str,
                size: Sequence[int] = (224, 224),
                opset: int = DEFAULT_OPSET,
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
    onnx_export(model, (x, ), path,
                input_names=['input'],
                output_names=outputs,
                opset_version=opset,
                dynamic_axes=axes if dynamic else None)
    return outputs


# --------------------------------------------------------------------------------------------
# NMS inside the graph
# --------------------------------------------------------------------------------------------
class ONNXNMS(torch.autograd.Function):
    """ONNX ``NonMaxSuppression`` (opset >= 10) with an eager implementation that matches it.

    Inputs: ``boxes (N, B, 4)`` as x1, y1, x2, y2, ``scores (N, C, B)``. Output: ``(S, 3)``
    int64 rows ``[batch, class, box]``, per (batch, class) in descending score order, at most
    ``max_out`` per class, boxes with ``score <= score_thr`` left out.
    """

    @staticmethod
    def forward(ctx, boxes, scores, max_out: int, iou_thr: float, score_thr: float):
        # during export the tracer records only the symbolic; torchvision's first call must
        # not run under it
        state = torch._C._get_tracing_state()
        torch._C._set_tracing_state(None)
        try:
            return ONNXNMS._nms(boxes, scores, max_out, iou_thr, score_thr)
        finally:
            torch._C._set_tracing_state(state)

    @staticmethod
    def _nms(boxes, scores, max_out: int, iou_thr: float, score_thr: float):
        from torchvision.ops import nms
        rows = []
        for b in range(scores.shape[0]):
            for c in range(scores.shape[1]):
                s = scores[b, c]
                idx = torch.nonzero(s > score_thr).flatten()
                keep = idx[nms(boxes[b, idx], s[idx], iou_thr)][:max_out]
                rows.append(torch.stack([torch.full_like(keep, b), torch.full_like(keep, c),
                                         keep], 1))
        if not rows:
            return boxes.new_zeros((0, 3), dtype=torch.long)
        return torch.cat(rows).long()

    @staticmethod
    def symbolic(g, boxes, scores, max_out, iou_thr, score_thr):
        return g.op(
            'NonMaxSuppression', boxes, scores,
            g.op('Constant', value_t=torch.tensor([max_out], dtype=torch.long)),
            g.op('Constant', value_t=torch.tensor([iou_thr], dtype=torch.float)),
            g.op('Constant', value_t=torch.tensor([score_thr], dtype=torch.float)))


def batched_nms_padded(boxes: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor,
                       iou_thr: float, score_thr: float,
                       max_per_img: int) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Class-aware NMS of per-image candidates, then the best ``max_per_img`` per image.

    ``boxes (N, P, 4)``, ``scores (N, P)``, ``labels (N, P)``. Classes are kept apart as in
    mmcv's ``batched_nms``: each box is shifted by ``label * (max coordinate + 1)`` and one NMS
    runs per image, so the result equals mmdet's ``_bbox_post_process`` (``keep[:max_per_img]``).
    Returns ``boxes (N, K, 4)``, ``scores (N, K)``, ``labels (N, K)`` with ``K = max_per_img``,
    sorted by score; missing detections are padded with zero boxes, score 0 and label -1.
    """
    n = boxes.shape[0]
    span = boxes.flatten(1).amax(1).clamp(min=0) + 1  # (N,)
    shifted = boxes + (labels.to(boxes.dtype) * span[:, None])[..., None]
    sel = ONNXNMS.apply(shifted, scores[:, None, :], max_per_img, float(iou_thr),
                        float(score_thr))
    b, i = sel[:, 0], sel[:, 2]
    sel_scores = scores[b, i]  # (S,)
    sel_boxes = boxes[b, i]  # (S, 4)
    sel_labels = labels[b, i]
    # spread the selections over their images: (N, S) with -1 where another image's, plus K
    # always-present pads so that top-K exists for any S
    own = b[None, :] == torch.arange(n, device=b.device)[:, None]
    per_img = torch.where(own, sel_scores[None, :], sel_scores.new_full((1, ), -1.))
    per_img = torch.cat([per_img, per_img.new_full((n, max_per_img), -1.)], 1)
    top, idx = per_img.topk(max_per_img, dim=1)
    sel_boxes = torch.cat([sel_boxes, sel_boxes.new_zeros((max_per_img, 4))])
    sel_labels = torch.cat([sel_labels, sel_labels.new_full((max_per_img, ), -1)])
    valid = top >= 0
    out_boxes = torch.where(valid[..., None], sel_boxes[idx], sel_boxes.new_zeros((1, )))
    out_scores = torch.where(valid, top, top.new_zeros((1, )))
    out_labels = torch.where(valid, sel_labels[idx], sel_labels.new_full((1, ), -1))
    return out_boxes, out_scores, out_labels


def _shape_hw(x: torch.Tensor) -> torch.Tensor:
    """(H, W) of an NCHW tensor as a tensor, traced as a dynamic shape."""
    return torch._shape_as_tensor(x)[2:].to(x.dtype) if torch.jit.is_tracing() else \
        torch.tensor(x.shape[2:], dtype=x.dtype, device=x.device)


def _clip(boxes: torch.Tensor, hw: torch.Tensor) -> torch.Tensor:
    limit = torch.stack([hw[1], hw[0], hw[1], hw[0]])
    return torch.minimum(boxes.clamp(min=0), limit)


def _flat_levels(maps, n: int, channels: int) -> torch.Tensor:
    """List of (N, A*ch, h, w) maps -> (N, sum(h*w*A), ch) in mmdet's order."""
    return torch.cat([m.permute(0, 2, 3, 1).reshape(n, -1, channels) for m in maps], 1)


class DetectorForExport(nn.Module):
    """A single-stage mmdet detector whose forward returns final detections.

    ``forward(inputs)``: the data-preprocessed batch ``(N, 3, H, W)`` -> ``boxes (N, K, 4)``
    (x1, y1, x2, y2 in input pixels, clipped to the input as the head's coder clips),
    ``scores (N, K)``, ``labels (N, K)``. The head's ``test_cfg`` (``nms_pre``, ``score_thr``,
    ``nms.iou_threshold``, ``max_per_img``) is applied exactly as mmdet's ``predict``:

    * anchor heads (``SSDHead`` / ``SSDLiteHead``, ``RetinaHead``, any ``AnchorHead``): per level,
      the ``nms_pre`` best (anchor, class) scores (softmax without background or sigmoid), their
      boxes decoded with the head's ``bbox_coder``;
    * ``YOLOXHead``: every prior, label = best class, score = class score x objectness.

    Then class-aware NMS and the ``max_per_img`` best, see :func:`batched_nms_padded`.
    """

    def __init__(self, detector: nn.Module, test_cfg: Optional[dict] = None) -> None:
        super().__init__()
        from mmdet.models.dense_heads import AnchorHead, YOLOXHead
        head = getattr(detector, 'bbox_head', None)
        if head is None or getattr(detector, 'with_rpn', False) or hasattr(detector, 'roi_head'):
            raise TypeError(
                f'{type(detector).__name__} is not a single-stage detector: the deployable export '
                'covers SSD / SSDLite, RetinaNet and YOLOX (two-stage models: export the raw '
                "tensors with model(x, mode='tensor') or use mmdeploy)")
        if isinstance(head, YOLOXHead):
            self.kind = 'yolox'
        elif isinstance(head, AnchorHead):
            self.kind = 'anchor'
        else:
            raise TypeError(f'{type(head).__name__}: the deployable export supports AnchorHead '
                            '(SSD, SSDLite, RetinaNet) and YOLOXHead')
        cfg = test_cfg or head.test_cfg
        if cfg is None or 'nms' not in cfg:
            raise ValueError('the detector has no test_cfg with nms: set model.test_cfg')
        self.detector = detector.eval()
        self.head = head
        self.nms_pre = int(cfg.get('nms_pre', -1))
        self.score_thr = float(cfg.get('score_thr', 0.0))
        self.iou_thr = float(cfg['nms']['iou_threshold'])
        self.max_per_img = int(cfg.get('max_per_img', 100))
        if cfg.get('min_bbox_size', 0) > 0:
            raise ValueError('test_cfg.min_bbox_size > 0 is not exported; set it to 0')

    def _anchor_candidates(self, cls_scores, bbox_preds, x):
        head = self.head
        n = x.shape[0]
        sizes = [c.shape[-2:] for c in cls_scores]
        priors = head.prior_generator.grid_priors(sizes, dtype=x.dtype, device=x.device)
        hw = _shape_hw(x)
        boxes, scores, labels = [], [], []
        box_dim = head.bbox_coder.encode_size
        for cls, reg, anchors in zip(cls_scores, bbox_preds, priors):
            cls = cls.permute(0, 2, 3, 1).reshape(n, -1, head.cls_out_channels)
            prob = cls.sigmoid() if head.use_sigmoid_cls else cls.softmax(-1)[..., :-1]
            num_cls = prob.shape[-1]
            reg = reg.permute(0, 2, 3, 1).reshape(n, -1, box_dim)
            flat = prob.reshape(n, -1)
            if self.nms_pre > 0:
                # padded so that top-k exists whatever the map size; pads never pass score_thr
                flat = torch.cat([flat, flat.new_full((n, self.nms_pre), -1.)], 1)
                score, idx = flat.topk(self.nms_pre, dim=1)
                keep_anchor = idx // num_cls
                label = idx % num_cls
                last = torch._shape_as_tensor(reg)[1] - 1 if torch.jit.is_tracing() else \
                    torch.tensor(reg.shape[1] - 1)
                keep_anchor = torch.minimum(keep_anchor, last)
                reg = torch.gather(reg, 1, keep_anchor[..., None].expand(-1, -1, box_dim))
                anchors = anchors[keep_anchor]  # (N, k, 4)
            else:
                score = flat
                keep_anchor = torch.arange(reg.shape[1], device=x.device)
                keep_anchor = keep_anchor[:, None].expand(-1, num_cls).reshape(-1)
                label = torch.arange(num_cls, device=x.device).repeat(reg.shape[1])
                reg = reg[:, keep_anchor]
                anchors = anchors[keep_anchor][None].expand(n, -1, -1)
                label = label[None].expand(n, -1)
            decoded = head.bbox_coder.decode(anchors.reshape(-1, 4), reg.reshape(-1, box_dim),
                                             max_shape=None).reshape(n, -1, 4)
            if getattr(head.bbox_coder, 'clip_border', False):
                decoded = _clip(decoded, hw)
            boxes.append(decoded)
            scores.append(score)
            labels.append(label)
        return torch.cat(boxes, 1), torch.cat(scores, 1), torch.cat(labels, 1)

    def _yolox_candidates(self, cls_scores, bbox_preds, objectnesses, x):
        head = self.head
        n = x.shape[0]
        sizes = [c.shape[2:] for c in cls_scores]
        priors = head.prior_generator.grid_priors(
            sizes, dtype=x.dtype, device=x.device, with_stride=True)
        priors = torch.cat(priors)
        cls = _flat_levels(cls_scores, n, head.cls_out_channels).sigmoid()
        reg = _flat_levels(bbox_preds, n, 4)
        obj = _flat_levels(objectnesses, n, 1).sigmoid()[..., 0]
        boxes = head._bbox_decode(priors, reg)
        best, labels = cls.max(-1)
        return boxes, best * obj, labels

    def forward(self, inputs: torch.Tensor):
        feats = self.detector.extract_feat(inputs)
        outs = self.head(feats)
        if self.kind == 'yolox':
            boxes, scores, labels = self._yolox_candidates(*outs, inputs)
        else:
            boxes, scores, labels = self._anchor_candidates(*outs, inputs)
        return batched_nms_padded(boxes, scores, labels, self.iou_thr, self.score_thr,
                                  self.max_per_img)


class SegmentorForExport(nn.Module):
    """An mmseg encoder-decoder whose forward returns the label map ``(N, H, W)`` (int64).

    Logits of the decode head, resized to the input (bilinear, the head's ``align_corners``,
    as mmseg's whole-image inference), then argmax over classes (or ``sigmoid > threshold``
    for a one-channel head).
    """

    def __init__(self, segmentor: nn.Module) -> None:
        super().__init__()
        if not hasattr(segmentor, 'decode_head') or not hasattr(segmentor, 'extract_feat'):
            raise TypeError(f'{type(segmentor).__name__} is not an mmseg EncoderDecoder')
        if hasattr(segmentor.decode_head, '__len__'):
            raise TypeError('cascade decode heads are not supported by the deployable export')
        self.segmentor = segmentor.eval()
        head = segmentor.decode_head
        self.align_corners = head.align_corners
        self.out_channels = head.out_channels
        self.threshold = getattr(head, 'threshold', 0.3)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        feats = self.segmentor.extract_feat(inputs)
        logits = self.segmentor.decode_head(feats)
        logits = F.interpolate(logits, size=inputs.shape[2:], mode='bilinear',
                               align_corners=self.align_corners)
        if self.out_channels == 1:
            return (logits.sigmoid() > self.threshold).long()[:, 0]
        return logits.argmax(1)


def wrap_for_export(model: nn.Module) -> Tuple[nn.Module, Sequence[str], Dict[str, dict]]:
    """The deployable wrapper of a detector / segmentor, its output names and dynamic axes."""
    axes = {'input': {0: 'batch', 2: 'height', 3: 'width'}}
    if hasattr(model, 'decode_head'):
        wrapper = SegmentorForExport(model)
        names = ['label']
        axes['label'] = {0: 'batch', 1: 'height', 2: 'width'}
    else:
        wrapper = DetectorForExport(model)
        names = ['boxes', 'scores', 'labels']
        for name in names:
            axes[name] = {0: 'batch'}
    # a new Module is in training mode: the exporter would restore that mode (recursively,
    # into the wrapped model) after the export
    return wrapper.eval(), names, axes


def export_deployable(model: nn.Module, path: str, size: Sequence[int] = (320, 320),
                      opset: int = DEFAULT_OPSET) -> Sequence[str]:
    """Export a detector (with NMS) or segmentor (label map) config model; returns the outputs."""
    wrapper, names, axes = wrap_for_export(model.eval())
    x = torch.randn(1, 3, *size)
    import warnings
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        onnx_export(wrapper, (x, ), path, input_names=['input'], output_names=list(names),
                    opset_version=opset, dynamic_axes=axes)
    return names


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
