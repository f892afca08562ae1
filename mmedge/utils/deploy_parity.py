"""Compare an exported model's predictions with PyTorch's on the same images (test / tool
helpers of the ONNX Runtime parity checks: tests/test_deploy, tools/deployment/mmdeploy_parity.py).

* :func:`spread_scores` makes a fixed-seed detector / segmentor decisive (scores that do not
  tie), so that agreement can be measured without trained weights.
* :func:`match_detections` and :func:`pixels_agree` measure how much of PyTorch's output the
  exported model reproduces.
"""
from typing import Sequence, Tuple

import torch

__all__ = ['spread_scores', 'match_detections', 'pixels_agree']


def spread_scores(model: torch.nn.Module, size: Sequence[int], target: float = 1.) -> None:
    """A fixed-seed head scores every anchor / pixel about alike (ties decide NMS order and
    argmax by rounding); scale the classifier's output layers so that their logits have std
    about ``target`` (and no bias) on a random input, which spreads the scores."""
    head = getattr(model, 'bbox_head', None) or model.decode_head
    if hasattr(head, 'cls_out_channels'):
        priors = getattr(head, 'num_base_priors', 1)
        widths = {head.cls_out_channels * p for p in (priors if isinstance(priors, list)
                                                      else [priors])}
    else:
        widths = {head.out_channels}
    convs = [m for n, m in head.named_modules() if isinstance(m, torch.nn.Conv2d) and (
        (m.out_channels in widths and ('cls' in n or 'conv_seg' in n))
        or ('obj' in n and m.out_channels == 1))]  # YOLOX's objectness
    if not convs:
        raise ValueError(f'spread_scores: no classifier conv found in {type(head).__name__}')
    stats = {}
    hooks = [m.register_forward_hook(
        lambda mod, i, o: stats.__setitem__(mod, max(  # shared over levels: the widest
            stats.get(mod, 0.), float((o - mod.bias[:, None, None]).std()))))
        for m in convs]
    with torch.no_grad():
        x = torch.randn(1, 3, *size)
        if max(float(f.std()) for f in model.extract_feat(x)) < 1e-4:
            # a fixed-seed EfficientViT + YOLOX neck has vanishing features (~1e-11): give
            # the convolutions unit-gain weights and the norms unit scales
            for m in model.modules():
                if isinstance(m, torch.nn.Conv2d):
                    torch.nn.init.kaiming_normal_(m.weight)
                elif isinstance(m, (torch.nn.modules.batchnorm._BatchNorm, torch.nn.GroupNorm,
                                    torch.nn.LayerNorm)) and m.weight is not None:
                    m.weight.fill_(1.)
            for n, m in head.named_modules():  # boxes: the priors, finite
                if isinstance(m, torch.nn.Conv2d) and 'reg' in n and m.out_channels == 4:
                    m.weight.zero_()
        model._forward(x)
        for h in hooks:
            h.remove()
        for m, std in stats.items():
            m.weight.mul_(target / max(std, 1e-6))
            m.bias.zero_()


def match_detections(ref_samples, got_samples, min_score: float,
                     top: int = 20) -> Tuple[float, int]:
    """Share of PyTorch's best ``top`` detections per image (score >= min_score) found by ONNX
    Runtime with the same label, IoU >= 0.99 and the score within 1e-3. (Further down the list,
    scores of a random model lie within float rounding of each other, and NMS may keep either
    of two such boxes.)"""
    from torchvision.ops import box_iou
    hit = total = 0
    for a, b in zip(ref_samples, got_samples):
        pa, pb = a.pred_instances, b.pred_instances
        pa = pa[pa.scores.argsort(descending=True)[:min(top, len(pb))]]
        keep = pa.scores >= min_score
        total += int(keep.sum())
        if not keep.any() or not len(pb.bboxes):
            continue
        iou = box_iou(pa.bboxes[keep], pb.bboxes)
        ok = (pa.labels[keep][:, None] == pb.labels[None]) & (iou >= 0.99) & (
            (pa.scores[keep][:, None] - pb.scores[None]).abs() <= 1e-3)
        hit += int(ok.any(1).sum())
    return hit / max(total, 1), total


def pixels_agree(ref_samples, got_samples) -> float:
    """Share of the pixels whose predicted label (``pred_sem_seg``) is the same in both."""
    same = total = 0
    for a, b in zip(ref_samples, got_samples):
        x, y = a.pred_sem_seg.data, b.pred_sem_seg.data
        same += int((x == y).sum())
        total += x.numel()
    return same / max(total, 1)
