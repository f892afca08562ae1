"""The contract shared by all mmedge backbones."""
import copy
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint

from mmedge.utils.typing import OptMultiConfig

__all__ = ['BaseEdgeBackbone']


class BaseEdgeBackbone(BaseModule):
    """Base class of the mmedge backbones: arguments, the stage loop, freezing, deploy.

    The base class runs the network (:meth:`forward`): it checks the input, runs the stem blocks
    and then the blocks of stages ``0..max(out_indices)`` (stages after the last requested one
    are skipped), each block under gradient checkpointing when ``with_cp`` is set, and returns
    ``_stage_output(i, x)`` for every ``i`` of ``out_indices``, in that order. A family file
    describes only its blocks. It provides:

    * ``arch_settings`` (class attribute): ``{name: {key: value}}`` of the official variants; never
      modified per instance. ``arch_aliases`` may map extra names (e.g. mmpretrain's) to them.
      The default ``arch`` of every family is its smallest variant.
    * ``converter`` (class attribute): the key of :data:`mmedge.converters.CONVERTERS` that maps the
      authors' checkpoints to this class's keys.
    * ``output_strides`` (class attribute): the output strides the family builds exactly
      (default ``(32, )``); see ``output_stride`` below.
    * ``self.out_channels``: channels of all four stages.
    * the hooks of the loop:

      - ``_stem_blocks()``: the stem as a list of blocks, run in order. Default: the children of
        ``self.stem`` (an ``nn.Sequential``).
      - ``_stage_blocks(i)``: stage ``i`` as a list of blocks, run in order, including its
        down-sampling layer (if any). A block is a module or a parameter-free callable (e.g. a
        layout change). Default: the children of ``self.stages[i]``.
      - ``_stage_output(i, x)``: the returned feature of stage ``i`` from the running tensor
        (an output norm, a layout change). Default: ``x.contiguous()``.
      - ``_stem_modules()`` / ``_stage_modules(i)``: what ``frozen_stages`` freezes. Default:
        the modules among the stem / stage blocks; a family adds its output norms.
      - ``_official_init()``: the authors' weight init (used when ``init_cfg`` is None).

    and calls ``self._finish_init()`` at the end of ``__init__`` (builds the deploy form when
    ``deploy=True``, applies ``frozen_stages``).

    Args:
        arch (str | dict): A key of ``arch_settings`` or a dict with exactly its keys.
        in_channels (int): Channels of the input images. Defaults to 3.
        out_indices (int | Sequence[int]): Stages to output, 0..3 = strides 4..32; negative indices
            count from the end. Outputs come in this order. Defaults to (0, 1, 2, 3).
        frozen_stages (int): -1 freezes nothing, 0 the stem, k the stem and stages 0..k-1 (with
            their output norms). Frozen parts stay in eval mode. Defaults to -1.
        norm_eval (bool): Keep every BatchNorm in eval mode while training. Defaults to False.
        with_cp (bool): Gradient checkpointing per block, stem blocks included (trades compute
            for memory; same outputs and gradients). Defaults to False.
        deploy (bool): Build the fused (inference) form of :meth:`switch_to_deploy` directly, so
            that a state dict saved after ``switch_to_deploy()`` loads strictly. Defaults to False.
        output_stride (int): 32, or 16 / 8 where the family lists it in ``output_strides``: the
            last one / two down-samplings keep the resolution and the blocks after them are
            dilated (``self.stage_strides`` / ``self.stage_dilations`` hold the plan). A family
            that has no exact dilated form refuses anything but 32. Defaults to 32.
        init_cfg (dict | list[dict], optional): ``None`` gives the official init;
            ``dict(type='Pretrained', checkpoint=PATH, prefix=...)`` loads an mmedge / mmengine
            checkpoint or the authors' released file (converted on load). Defaults to None.
    """
    arch_settings: Dict[str, dict] = {}
    arch_aliases: Dict[str, str] = {}
    converter: Optional[str] = None
    output_strides: Tuple[int, ...] = (32, )
    num_stages = 4
    # stride of each stage's down-sampling (the stem's for stage 0) at output stride 32
    base_strides = (4, 2, 2, 2)

    def __init__(self,
                 arch: Union[str, dict],
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 deploy: bool = False,
                 output_stride: int = 32,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        self.arch = self._parse_arch(arch)
        self.arch_name = arch if isinstance(arch, str) else 'custom'
        if not isinstance(in_channels, int) or isinstance(
                in_channels, bool) or in_channels < 1:
            raise ValueError(f'{name}: in_channels must be a positive int, '
                             f'got {in_channels!r}')
        self.in_channels = in_channels
        self.out_indices = self._parse_out_indices(out_indices)
        self._last_stage = max(self.out_indices)
        if not isinstance(frozen_stages, int) or isinstance(
                frozen_stages, bool) or not (-1 <= frozen_stages <=
                                             self.num_stages):
            raise ValueError(
                f'{name}: frozen_stages must be an int in '
                f'[-1, {self.num_stages}] (-1: nothing, 0: stem, k: stem + '
                f'stages 0..k-1), got {frozen_stages!r}')
        self.frozen_stages = frozen_stages
        self.norm_eval = bool(norm_eval)
        self.with_cp = bool(with_cp)
        self._build_deployed = bool(deploy)
        # becomes True once the fused form exists (a family that builds it itself sets it)
        self.deploy = False
        self.output_stride = output_stride
        self.stage_strides, self.stage_dilations = self._dilation_plan(
            output_stride)

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

    def _dilation_plan(self, output_stride: int) -> Tuple[tuple, tuple]:
        name = type(self).__name__
        if output_stride not in self.output_strides or isinstance(
                output_stride, bool):
            if self.output_strides == (32, ):
                why = (' (its blocks have no exact dilated form here; put the '
                       'head on the stride-32 map, or use a family whose '
                       'output_strides list 16, e.g. EdgeNeXt)')
            else:
                why = ''
            raise ValueError(
                f'{name}: output_stride must be one of '
                f'{sorted(self.output_strides)}, got {output_stride!r}{why}')
        strides, dilations = list(self.base_strides), []
        total, dilation = 1, 1
        for i, s in enumerate(self.base_strides):
            if total * s > output_stride:  # keep the resolution, dilate instead
                strides[i] = 1
                dilation *= s
            total *= strides[i]
            dilations.append(dilation)
        return tuple(strides), tuple(dilations)

    # ------------------------------------------------------------------ hooks
    def _stem_blocks(self) -> List[Callable]:
        return list(self.stem)

    def _stage_blocks(self, i: int) -> List[Callable]:
        return list(self.stages[i])

    def _stage_output(self, i: int, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous()

    def _stem_modules(self) -> Sequence[nn.Module]:
        return [b for b in self._stem_blocks() if isinstance(b, nn.Module)]

    def _stage_modules(self, i: int) -> Sequence[nn.Module]:
        return [b for b in self._stage_blocks(i) if isinstance(b, nn.Module)]

    def _official_init(self) -> None:
        """The authors' initialisation. Default: PyTorch's default init of every layer
        (``reset_parameters()``: what the authors' code uses when it sets none)."""
        for m in self.modules():
            if m is not self and hasattr(m, 'reset_parameters'):
                m.reset_parameters()

    def _finish_init(self) -> None:
        """Call at the end of the subclass ``__init__``."""
        if self._build_deployed and not self.deploy:
            # the fused structure (its values are replaced by the state dict loaded next)
            self.switch_to_deploy()
        self._freeze_stages()

    # ------------------------------------------------------------------ forward
    def _check_input(self, x) -> None:
        name = type(self).__name__
        want = f'(N, {self.in_channels}, H, W)'
        if isinstance(x, torch.fx.Proxy):  # symbolic tracing: no values
            return
        if not isinstance(x, torch.Tensor):
            raise TypeError(f'{name}: expected an image batch tensor of shape '
                            f'{want}, got {type(x).__name__}')
        if x.dim() != 4:
            hint = ' (add the batch dimension: x[None])' if x.dim() == 3 \
                else ''
            raise ValueError(f'{name}: expected an image batch of shape {want},'
                             f' got a {x.dim()}-D tensor of shape '
                             f'{tuple(x.shape)}{hint}')
        if not torch.jit.is_tracing() and x.shape[1] != self.in_channels:
            raise ValueError(
                f'{name}: expected an image batch of shape {want}, got shape '
                f'{tuple(x.shape)} ({x.shape[1]} channels; an NHWC batch '
                f'needs x.permute(0, 3, 1, 2), other channel counts '
                f'in_channels={x.shape[1]})')

    def _run(self, block: Callable, x: torch.Tensor) -> torch.Tensor:
        """Run ``block`` with gradient checkpointing when ``with_cp`` applies."""
        if self.with_cp and self.training and torch.is_grad_enabled():
            return checkpoint(block, x, use_reentrant=False)
        return block(x)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Features of the ``out_indices`` stages, in that order.

        Args:
            x (torch.Tensor): Images ``(N, in_channels, H, W)``.
        """
        self._check_input(x)
        for block in self._stem_blocks():
            x = self._run(block, x)
        outs = {}
        for i in range(self._last_stage + 1):
            for block in self._stage_blocks(i):
                x = self._run(block, x)
            if i in self.out_indices:
                outs[i] = self._stage_output(i, x)
        return tuple(outs[i] for i in self.out_indices)

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

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Refuse a fused (``switch_to_deploy()``) state dict given to the training form.

        A non-strict load (mmengine's ``load_from``, mmdet's / mmseg's ``tools/test.py``) would
        only warn about the missing / unexpected keys and run a half-initialised backbone; when the
        keys under this backbone are exactly those of its fused form, that is an error that names
        the fix. Anything else loads as torch does.
        """
        if not self.deploy:
            incoming = {k[len(prefix):] for k in state_dict if k.startswith(prefix)}
            own = set(self.state_dict())
            if incoming and incoming != own:
                import copy
                fused = set(copy.deepcopy(self).switch_to_deploy().state_dict())
                if incoming == fused:
                    where = prefix.rstrip('.') or 'the backbone'
                    how = (f'--cfg-options model.{prefix}deploy=True' if prefix else
                           'the deploy=True argument; a backbone-only config: --cfg-options '
                           'model.deploy=True')
                    raise ValueError(
                        f'{type(self).__name__} ({where}) is built in its training form, but '
                        f'the checkpoint holds its fused form (switch_to_deploy() / '
                        f'tools/model_converters/reparameterize.py): build it with deploy=True '
                        f'({how}), or load the unfused training checkpoint.')
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

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
