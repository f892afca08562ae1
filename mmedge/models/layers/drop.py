"""Stochastic depth."""
from typing import List, Sequence

import torch
import torch.nn as nn

__all__ = ['DropPath', 'drop_path_rates']


class DropPath(nn.Module):
    """Drop whole samples of a residual branch (stochastic depth) in training mode.

    Args:
        drop_prob (float): Probability of dropping a sample's branch. Defaults to 0.
    """

    def __init__(self, drop_prob: float = 0.) -> None:
        super().__init__()
        if not 0. <= drop_prob < 1.:
            raise ValueError(f'drop_prob must be in [0, 1), got {drop_prob}')
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0. or not self.training:
            return x
        keep = 1. - self.drop_prob
        shape = (x.shape[0], ) + (1, ) * (x.ndim - 1)
        mask = x.new_empty(shape).bernoulli_(keep)
        return x * mask.div_(keep)

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}'


def drop_path_rates(depths: Sequence[int], rate: float) -> List[List[float]]:
    """Linear stochastic-depth schedule from 0 to ``rate`` over all blocks, split per stage.

    Args:
        depths (Sequence[int]): Blocks per stage.
        rate (float): Rate of the last block, in [0, 1).

    Returns:
        list[list[float]]: One list of per-block rates per stage.
    """
    if not 0. <= rate < 1.:
        raise ValueError(f'drop_path_rate must be in [0, 1), got {rate}')
    total = sum(depths)
    # device='cpu': the schedule is plain numbers, also when a model is built under
    # ``with torch.device('meta')`` (cheap parameter counting).
    flat = torch.linspace(0, rate, total,
                          device='cpu').tolist() if total else []
    out, start = [], 0
    for d in depths:
        out.append(flat[start:start + d])
        start += d
    return out
