"""Helpers for the official-checkpoint converters (pure functions, no registry)."""
import re
from typing import Dict, Iterable, Sequence, Tuple

import torch

__all__ = ['unwrap', 'rename_keys', 'drop_keys']

Rule = Tuple[str, str]


def unwrap(ckpt) -> Dict[str, torch.Tensor]:
    """Take ``model_ema`` -> ``model`` -> ``state_dict`` -> raw, and strip ``module.``."""
    from mmedge.utils.checkpoint import extract_state_dict
    if isinstance(ckpt, dict) and all(
            isinstance(v, torch.Tensor) for v in ckpt.values()):
        sd = dict(ckpt)
        if sd and all(k.startswith('module.') for k in sd):
            sd = {k[len('module.'):]: v for k, v in sd.items()}
        return sd
    return extract_state_dict(ckpt)


def rename_keys(state_dict: Dict[str, torch.Tensor],
                rules: Sequence[Rule]) -> Dict[str, torch.Tensor]:
    """Apply ``re.sub(pattern, repl, key)`` for every rule, in order, to every key.

    Rules must be written so that a converted key is left unchanged (idempotent conversion).
    """
    compiled = [(re.compile(p), r) for p, r in rules]
    out = {}
    for key, value in state_dict.items():
        new = key
        for pattern, repl in compiled:
            new = pattern.sub(repl, new)
        if new in out:
            raise ValueError(f'two keys map to {new!r} (second: {key!r})')
        out[new] = value
    return out


def drop_keys(state_dict: Dict[str, torch.Tensor],
              patterns: Iterable[str]) -> Dict[str, torch.Tensor]:
    """Drop every key that matches one of the regex ``patterns`` (``re.match``)."""
    compiled = [re.compile(p) for p in patterns]
    return {
        k: v
        for k, v in state_dict.items()
        if not any(p.match(k) for p in compiled)
    }
