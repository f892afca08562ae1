"""Dataset wrappers.

``type='mmedge.datasets.wrappers.FiniteRepeatDataset'`` resolves in any scope (mmengine's registry
falls back to the import path for a scope without a registry of that kind).
"""
from mmengine.dataset import RepeatDataset

__all__ = ['FiniteRepeatDataset']


class FiniteRepeatDataset(RepeatDataset):
    """mmengine's ``RepeatDataset`` whose indexing ends at its length.

    mmengine's wrapper maps every index modulo the wrapped length, so plain Python iteration
    (``for item in dataset``, which stops at the first ``IndexError``; mmdet's
    ``browse_dataset`` iterates this way) never ends. Indices in ``[-len, len)`` give the same
    samples as ``RepeatDataset`` (samplers draw only those), so training is unchanged.
    """

    def _get_ori_dataset_idx(self, idx: int) -> int:
        length = len(self)
        if not -length <= idx < length:
            raise IndexError(f'index {idx} out of range for a dataset of '
                             f'{length} samples')
        return super()._get_ori_dataset_idx(idx % length)
