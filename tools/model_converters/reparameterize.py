"""Re-parameterise a trained checkpoint into its fused (deploy) form.

    python tools/model_converters/reparameterize.py CONFIG CHECKPOINT OUT [--cfg-options ...]

Builds the model of CONFIG under the config's ``default_scope`` (a classifier, detector,
segmentor or a bare backbone), loads CHECKPOINT strictly, then calls ``switch_to_deploy()`` on
the model itself when it has one (a bare backbone), otherwise on each top-level part that has
one (``backbone``, and e.g. ``head`` for ``RepNeXtClsHead``). The output is a tensor-only
``{'state_dict': ..., 'meta': {...}}`` (loadable with ``weights_only=True``).

To use it, build the fused parts with ``deploy=True``: a deploy config such as
``configs/repnext/cls_repnext_m1-deploy_in1k.py``, or e.g.
``--cfg-options model.backbone.deploy=True`` for a detector / segmentor.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

from mmedge.utils.checkpoint import extract_state_dict, safe_load  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config of the trained (unfused) model')
    parser.add_argument('checkpoint', help='trained checkpoint')
    parser.add_argument('out', help='where to write the fused checkpoint')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.backbone.arch=m3')
    return parser.parse_args(argv)


def build_model(cfg: Config) -> torch.nn.Module:
    """Build ``cfg.model`` in ``cfg.default_scope`` without initialising or loading weights."""
    import importlib

    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import MODELS, DefaultScope
    from mmengine.utils import import_modules_from_strings

    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    model_cfg = cfg.model.copy()
    # as the Runner does: the top-level data_preprocessor belongs to the model
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    scope = cfg.get('default_scope')
    with DefaultScope.overwrite_default_scope(scope):
        if scope:
            importlib.import_module(f'{scope}.registry')
        model = MODELS.build(model_cfg)
    return revert_sync_batchnorm(model)


def reparameterize(model: torch.nn.Module) -> list:
    """Fuse ``model`` in place; return the names of the fused parts."""
    model.eval()
    if hasattr(model, 'switch_to_deploy'):
        model.switch_to_deploy()
        return ['<model>']
    fused = []
    for name, child in model.named_children():
        if hasattr(child, 'switch_to_deploy'):
            child.switch_to_deploy()
            fused.append(name)
    if not fused:
        raise ValueError(
            f'{type(model).__name__}: neither the model nor any of its parts '
            f'({", ".join(n for n, _ in model.named_children())}) has '
            f'switch_to_deploy(); nothing to re-parameterise')
    return fused


def convert(config, checkpoint, out, cfg_options=None) -> dict:
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = build_model(cfg)
    ckpt = safe_load(checkpoint)
    try:
        missing, unexpected = model.load_state_dict(
            extract_state_dict(ckpt), strict=False)
    except ValueError as err:  # an mmedge backbone recognised its own fused form
        raise ValueError(f'{checkpoint!r} is already fused: {err}') from None
    if missing or unexpected:
        raise ValueError(
            f'{checkpoint!r} does not fit the model of {config!r}: missing '
            f'{missing[:5]} ({len(missing)}), unexpected {unexpected[:5]} '
            f'({len(unexpected)}). Is it already fused, or from another '
            f'config?')
    fused = reparameterize(model)
    state_dict = {
        k: v.detach().cpu().contiguous()
        for k, v in model.state_dict().items()
    }
    meta = dict(
        deploy=True,
        fused=fused,
        config=osp.basename(config),
        source_checkpoint=osp.basename(checkpoint))
    src_meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    if isinstance(src_meta, dict) and 'dataset_meta' in src_meta:
        meta['dataset_meta'] = src_meta['dataset_meta']
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save({'state_dict': state_dict, 'meta': meta}, out)
    return dict(state_dict=state_dict, meta=meta)


def main(argv=None):
    args = parse_args(argv)
    result = convert(args.config, args.checkpoint, args.out, args.cfg_options)
    print(f'fused {", ".join(result["meta"]["fused"])}: '
          f'{len(result["state_dict"])} tensors written to {args.out}')


if __name__ == '__main__':
    main()
