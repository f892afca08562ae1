"""The contract shared by all mmedge backbones."""
import copy
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint

from mmedge.utils.typing import OptMultiConfig

__all__ = ['BaseEdgeBackbone']


class BaseEdgeBackbone(BaseModule):
    """Base class of the five mmedge backbones.

    A family subclass provides:

    * ``arch_settings`` (class attribute): ``{name: {key: value}}`` of the official variants; never
      modified per instance. ``arch_aliases`` may map extra names (e.g. mmpretrain's) to them.
    * ``converter`` (class attribute): the key of :data:`mmedge.converters.CONVERTERS` that maps the
      authors' checkpoints to this class's keys.
    * ``self.out_channels``: channels of all four stages (strides 4, 8, 16, 32).
    * ``_stem_modules()`` and ``_stage_modules(i)``: what ``frozen_stages`` freezes.
    * ``_official_init()``: the authors' weight init (used when ``init_cfg`` is None).
    * ``forward(x)`` returning ``tuple(feats[i] for i in self.out_indices)``.

    and must call ``self._finish_init()`` at the end of ``__init__`` (applies ``frozen_stages``).

    Args:
        arch (str | dict): A key of ``arch_settings`` or a dict with exactly its keys.
        out_indices (int | Sequence[int]): Stages to output, 0..3 = strides 4..32; negative indices
            count from the end. Defaults to (0, 1, 2, 3).
        frozen_stages (int): -1 freezes nothing, 0 the stem, k the stem and stages 0..k-1 (with
            their output norms). Frozen parts stay in eval mode. Defaults to -1.
        norm_eval (bool): Keep every BatchNorm in eval mode while training. Defaults to False.
        with_cp (bool): Gradient checkpointing per block (trades compute for memory).
            Defaults to False.
        init_cfg (dict | list[dict], optional): ``None`` gives the official init;
            ``dict(type='Pretrained', checkpoint=PATH, prefix=...)`` loads an mmedge / mmengine
            checkpoint or the authors' released file (converted on load). Defaults to None.
    """
    arch_settings: Dict[str, dict] = {}
    arch_aliases: Dict[str, str] = {}
    converter: Optional[str] = None
    num_stages = 4

    def __init__(self,
                 arch: Union[str, dict],
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.arch = self._parse_arch(arch)
        self.arch_name = arch if isinstance(arch, str) else 'custom'
        self.out_indices = self._parse_out_indices(out_indices)
        if not isinstance(frozen_stages, int) or isinstance(
                frozen_stages, bool) or not (-1 <= frozen_stages <=
                                             self.num_stages):
            raise ValueError(
                f'{type(self).__name__}: frozen_stages must be an int in '
                f'[-1, {self.num_stages}] (-1: nothing, 0: stem, k: stem + '
                f'stages 0..k-1), got {frozen_stages!r}')
        self.frozen_stages = frozen_stages
        self.norm_eval = bool(norm_eval)
        self.with_cp = bool(with_cp)
        self.deploy = False

    # ------------------------------------------------------------------ arguments
    @classmethod
    def _parse_arch(cls, arch: Union[str, dict]) -> dict:
        name = cls.__name__
        if isinstance(arch, str):
            key = cls.arch_aliases.get(arch.lower(), arch.lower())
            if key not in cls.arch_settings:
                raise ValueError(
                    f'{name}: unknown arch {arch!r}; valid names are '
                    f'{sorted(cls.arch_settings)}'
                    + (f' (aliases: {sorted(cls.arch_aliases)})'
                       if cls.arch_aliases else '') +
                    ', or a dict with the keys '
                    f'{sorted(cls._arch_keys())}')
            return copy.deepcopy(cls.arch_settings[key])
        if isinstance(arch, dict):
            need = cls._arch_keys()
            missing = sorted(need - set(arch))
            extra = sorted(set(arch) - need)
            if missing or extra:
                raise ValueError(
                    f'{name}: a custom arch dict needs exactly the keys '
                    f'{sorted(need)}; missing {missing}, unexpected {extra}')
            return copy.deepcopy(dict(arch))
        raise TypeError(f'{name}: arch must be a str or a dict, got '
                        f'{type(arch).__name__}')

    @classmethod
    def _arch_keys(cls) -> set:
        return set(next(iter(cls.arch_settings.values())))

    def _parse_out_indices(
            self, out_indices: Union[int, Sequence[int]]) -> Tuple[int, ...]:
        name = type(self).__name__
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        if not isinstance(out_indices, Sequence) or isinstance(
                out_indices, str) or len(out_indices) == 0:
            raise ValueError(f'{name}: out_indices must be an int or a '
                             f'non-empty sequence of ints, got {out_indices!r}')
        result = []
        for idx in out_indices:
            if not isinstance(idx, int) or isinstance(idx, bool):
                raise ValueError(
                    f'{name}: out_indices must hold ints, got {idx!r}')
            if not -self.num_stages <= idx < self.num_stages:
                raise ValueError(
                    f'{name}: out_indices entry {idx} is out of range; valid '
                    f'are 0..{self.num_stages - 1} (strides 4, 8, 16, 32) or '
                    f'-{self.num_stages}..-1')
            result.append(idx % self.num_stages)
        if len(set(result)) != len(result):
            raise ValueError(f'{name}: out_indices {tuple(out_indices)} '
                             f'name a stage twice')
        return tuple(result)

    # ------------------------------------------------------------------ hooks
    def _stem_modules(self) -> Sequence[nn.Module]:
        raise NotImplementedError

    def _stage_modules(self, i: int) -> Sequence[nn.Module]:
        raise NotImplementedError

    def _official_init(self) -> None:
        """The authors' initialisation; the default keeps PyTorch's."""

    def _finish_init(self) -> None:
        """Call at the end of the subclass ``__init__``."""
        self._freeze_stages()

    # ------------------------------------------------------------------ behaviour
    def _frozen_modules(self):
        if self.frozen_stages < 0:
            return []
        mods = list(self._stem_modules())
        for i in range(self.frozen_stages):
            mods.extend(self._stage_modules(i))
        return mods

    def _freeze_stages(self) -> None:
        for m in self._frozen_modules():
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True) -> 'BaseEdgeBackbone':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    def _run(self, block: nn.Module, x: torch.Tensor, *args) -> torch.Tensor:
        """Run ``block`` with gradient checkpointing when ``with_cp`` applies."""
        if self.with_cp and self.training and x.requires_grad:
            return checkpoint(block, x, *args, use_reentrant=False)
        return block(x, *args)

    @torch.no_grad()
    def switch_to_deploy(self) -> 'BaseEdgeBackbone':
        """Fuse every fusable branch / norm in place (idempotent); returns self."""
        if self.deploy:
            return self
        for m in list(self.modules()):
            if m is not self and hasattr(m, 'switch_to_deploy'):
                m.switch_to_deploy()
        self.deploy = True
        return self

    def init_weights(self) -> None:
        """Official init (``init_cfg=None``) or mmengine init; ``Pretrained`` loads last.

        A ``Pretrained`` checkpoint may be an mmedge / mmengine file (keys optionally under
        ``prefix``) or the authors' released file, which is recognised and converted on load.
        A local file that does not exist raises ``FileNotFoundError`` (see
        :func:`mmedge.utils.checkpoint.load_pretrained`, which also takes ``format``).
        """
        from mmedge.utils.checkpoint import load_pretrained

        init_cfgs = self.init_cfg
        if isinstance(init_cfgs, dict):
            init_cfgs = [init_cfgs]
        pretrained = None
        others = []
        for cfg in init_cfgs or []:
            if cfg.get('type') == 'Pretrained':
                pretrained = cfg
            else:
                others.append(cfg)
        if not others:
            self._official_init()
        self.init_cfg = others or None
        try:
            super().init_weights()
        finally:
            self.init_cfg = init_cfgs if init_cfgs is None or len(
                init_cfgs) > 1 else init_cfgs[0]
        if pretrained is not None:  # logs what it loaded; a missing file is an error
            load_pretrained(self, pretrained)
