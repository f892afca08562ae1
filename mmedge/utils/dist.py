"""Distributed runs on CPU-only machines: gloo and CPU DDP, chosen automatically.

mmengine 0.10.7 assumes a GPU for ``--launcher pytorch``: ``init_dist`` calls
``torch.cuda.set_device(LOCAL_RANK)`` whatever the backend (``Found no NVIDIA driver`` on a CPU
machine, so ``env_cfg.dist_cfg.backend='gloo'`` alone does not help), and ``Runner.wrap_model``
passes ``device_ids=[LOCAL_RANK]`` to ``DistributedDataParallel``, which DDP rejects for a module
on the CPU. :func:`setup_dist` runs before the Runner is built: when the launcher is distributed
and no accelerator is present, it opens the gloo process group itself (the Runner then skips
``init_dist``, it only initialises a group that is not there yet) and sets
``model_wrapper_cfg.device_ids=None``. With CUDA (or another accelerator mmengine drives) it
changes nothing.
"""
import datetime
import os

__all__ = ['setup_dist']

_TORCHRUN_VARS = ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')


def _wrapper_cfg(cfg) -> dict:
    """The config's model wrapper with ``device_ids=None`` where it is a DDP subclass."""
    from mmengine.registry import MODEL_WRAPPERS
    from torch.nn.parallel import DistributedDataParallel

    wrapper = cfg.get('model_wrapper_cfg')
    if wrapper is None:  # what Runner.wrap_model builds without one
        wrapper = dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper = dict(wrapper)
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper_cls = wrapper['type']
    if isinstance(wrapper_cls, str):
        wrapper_cls = MODEL_WRAPPERS.get(wrapper_cls)
    if isinstance(wrapper_cls, type) and issubclass(wrapper_cls,
                                                    DistributedDataParallel):
        # a CPU module takes no device ids (DDP: "device_ids ... must be None")
        wrapper['device_ids'] = None
    return wrapper


def setup_dist(cfg) -> bool:
    """Make ``cfg`` run distributed on the CPU when no accelerator is present.

    Call it after ``cfg.launcher`` is set and before ``Runner.from_cfg(cfg)``. With
    ``launcher='pytorch'`` (``tools/dist_train.sh`` / ``dist_test.sh``, i.e. torchrun) on a
    machine without CUDA it initialises the ``gloo`` process group from torchrun's environment
    (``env_cfg.dist_cfg.timeout`` is honoured; an ``nccl`` backend, the default, becomes
    ``gloo``) and sets ``cfg.model_wrapper_cfg`` so that DDP wraps the CPU model with
    ``device_ids=None``. Otherwise (no launcher, or a GPU) it does nothing.

    Returns:
        bool: Whether the CPU process group was set up here.

    Raises:
        RuntimeError: The launcher cannot run on a CPU-only machine (slurm / mpi), the
            torchrun environment is missing, or the configured backend is not a CPU one.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher in (None, 'none'):
        return False
    from mmengine.device import get_device
    if get_device() != 'cpu':
        return False  # CUDA / NPU / MLU / MUSA / MPS: mmengine's own set-up, unchanged
    import torch.distributed as torch_dist
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} on a machine without CUDA: mmengine 0.10.7 sets a CUDA '
            f'device for it. Start CPU processes with torchrun instead: '
            f'bash tools/dist_train.sh CONFIG NUM_PROCESSES (--launcher pytorch).')
    missing = [v for v in _TORCHRUN_VARS if v not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher pytorch needs the environment torchrun sets; {", ".join(missing)} '
            f'missing. Start it with bash tools/dist_train.sh CONFIG NUM_PROCESSES (or '
            f'tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCESSES), or drop --launcher.')
    env_cfg = dict(cfg.get('env_cfg') or {})
    dist_cfg = dict(env_cfg.get('dist_cfg') or {})
    backend = dist_cfg.get('backend', 'nccl')
    if backend == 'nccl':  # the GPU default of every OpenMMLab config
        backend = 'gloo'
    if backend not in ('gloo', 'mpi'):
        raise RuntimeError(
            f'env_cfg.dist_cfg.backend={backend!r} cannot run without CUDA; use '
            f"'gloo' (chosen automatically when the backend is 'nccl') or 'mpi'.")
    dist_cfg['backend'] = backend
    env_cfg['dist_cfg'] = dist_cfg
    cfg.env_cfg = env_cfg
    if not torch_dist.is_initialized():
        kwargs = {}
        if dist_cfg.get('timeout') is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=dist_cfg['timeout'])
        torch_dist.init_process_group(backend=backend, **kwargs)
    cfg.model_wrapper_cfg = _wrapper_cfg(cfg)
    return True
