"""Activation builder that refuses unknown types instead of returning None."""
import torch.nn as nn

from mmedge.registry import MODELS

__all__ = ['build_act_layer']


def build_act_layer(cfg: dict) -> nn.Module:
    """Build an activation from ``dict(type=..., **kwargs)``; ``None`` gives ``nn.Identity``.

    The type is looked up in the mmedge registry and its parents (mmcv registers ``ReLU``, ``GELU``,
    ``SiLU``/``Swish``, ``HSwish``, ``HSigmoid`` ...) and then in ``torch.nn`` (``Hardswish``,
    ``GELU(approximate='tanh')`` ...).
    """
    if cfg is None:
        return nn.Identity()
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'act_cfg must be a dict with a "type" key, got {cfg!r}')
    cfg = dict(cfg)
    act_type = cfg.pop('type')
    if isinstance(act_type, str):
        name = act_type[len('mmedge.'):] if act_type.startswith(
            'mmedge.') else act_type
        act_cls = getattr(nn, name, None) or MODELS.get(name)
    else:
        act_cls = act_type
    if act_cls is None:
        raise ValueError(f'Unknown activation type {act_type!r}')
    return act_cls(**cfg)
