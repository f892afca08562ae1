"""Put back the process-wide state that an in-process training run changes."""
import random
from contextlib import contextmanager

import numpy as np
import torch


@contextmanager
def restored_process_state(threads=None):
    """Generators, determinism flags, thread count and mmengine's default scope as they were.

    ``threads``: run the block with that many torch threads (as a subprocess with
    ``OMP_NUM_THREADS``), so that in-process and subprocess runs compute alike.
    """
    from mmengine.registry import DefaultScope
    saved = (random.getstate(), np.random.get_state(), torch.get_rng_state(),
             torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
             torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic,
             DefaultScope._instance_dict.copy())
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        torch.set_rng_state(saved[2])
        torch.set_num_threads(saved[3])
        torch.use_deterministic_algorithms(saved[4])
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = saved[5:7]
        DefaultScope._instance_dict.clear()
        DefaultScope._instance_dict.update(saved[7])
