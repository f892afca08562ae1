"""A user's config inherits ours with ``_base_ = 'mmedge::<folder>/<config>.py'``.

``import mmedge`` registers the ``mmedge::`` prefix with mmengine; mmengine then puts
``_scope_='mmedge'`` on every dict with a ``type`` of the inherited config, and mmedge's registries
resolve what mmedge does not define in the run's task package (``default_scope``). Here the
package layout mmengine reads (``<mmedge>/.mim/{configs,model-index.yml}``) is a temporary folder
linking to this checkout (the wheel test covers a real install); every typed dict built in the
``mmedge`` scope resolves, and the detector / segmentor / classifier build as a runner builds
them (root registry, the config's default scope).
"""
import os
import os.path as osp

import pytest
from conftest import needs_mmdet, needs_mmpretrain, needs_mmseg

import mmedge  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# one config per framework / dataset layout (parsing all of them takes minutes)
CASES = [
    pytest.param('edgenext/ssdlite_edgenext_s_coco.py', marks=needs_mmdet),
    pytest.param('edgevit/retinanet_edgevit_xxs_voc.py', marks=needs_mmdet),
    pytest.param('repnext/maskrcnn_repnext_m3_cityscapes.py', marks=needs_mmdet),
    pytest.param('efficientvit/yolox_efficientvit_b1-r512_voc.py', marks=needs_mmdet),
    pytest.param('toy/toy_ssdlite_edgenext_s_voc.py', marks=needs_mmdet),
    pytest.param('emo/pspnet_emo_1m_ade20k.py', marks=needs_mmseg),
    pytest.param('efficientvit/efficientvitseg_efficientvit_b1_cityscapes.py',
                 marks=needs_mmseg),
    pytest.param('toy/toy_deeplabv3_emo_1m_voc.py', marks=needs_mmseg),
    pytest.param('repnext/cls_repnext_m1_in1k.py', marks=needs_mmpretrain),
]
BUILT = ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'optim_wrapper',
         'param_scheduler', 'custom_hooks', 'default_hooks', 'val_evaluator', 'test_evaluator',
         'visualizer', 'log_processor', 'train_cfg', 'val_cfg', 'test_cfg')


@pytest.fixture
def installed_layout(tmp_path, monkeypatch):
    """``mmedge::`` reads ``<tmp>/mmedge/.mim`` (links to this checkout's configs)."""
    import mmengine.config.config as config_module
    pkg = tmp_path / 'site' / 'mmedge'
    (pkg / '.mim').mkdir(parents=True)
    for name in ('configs', 'model-index.yml'):
        os.symlink(osp.join(ROOT, name), pkg / '.mim' / name)
    real = config_module.get_installed_path
    monkeypatch.setattr(config_module, 'get_installed_path',
                        lambda p: str(pkg) if p == 'mmedge.registry' else real(p))
    return tmp_path


def _inherit(tmp_path, rel, extra=''):
    from mmengine.config import Config
    user = tmp_path / 'my_config.py'
    user.write_text(f"_base_ = 'mmedge::{rel}'\n{extra}")
    return Config.fromfile(str(user))


def _mmedge_scoped(node, scoped=False, path=''):
    """(path, type) of every typed dict that is built in the mmedge scope."""
    if isinstance(node, dict):
        if node.get('_scope_') is not None:
            scoped = node['_scope_'] == 'mmedge'
        if scoped and isinstance(node.get('type'), str):
            yield path, node['type']
        for k, v in node.items():
            yield from _mmedge_scoped(v, scoped, f'{path}.{k}')
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _mmedge_scoped(v, scoped, f'{path}[{i}]')


def test_mmedge_is_registered_with_mmengine():
    from mmengine.config.utils import MODULE2PACKAGE
    from mmengine.utils import get_installed_path
    # a module path: mmengine finds the imported mmedge's folder whatever the install mode
    assert MODULE2PACKAGE['mmedge'] == 'mmedge.registry'
    assert get_installed_path(MODULE2PACKAGE['mmedge']) == osp.dirname(mmedge.__file__)


@pytest.mark.parametrize('rel', CASES)
def test_every_inherited_type_resolves_in_the_mmedge_scope(installed_layout, rel):
    import importlib

    import mmengine.registry as registries
    from mmengine.registry import DefaultScope, Registry
    cfg = _inherit(installed_layout, rel)
    children = [r._children['mmedge'] for r in vars(registries).values()
                if isinstance(r, Registry) and r.parent is None]
    # a task package's registries outside mmengine's tree (mmpretrain's BATCH_AUGMENTS) are
    # searched by themselves, whatever the scope
    task = importlib.import_module(f'{cfg.default_scope}.registry')
    children += [r for r in vars(task).values() if isinstance(r, Registry) and r.parent is None]
    scoped = [(k + p, t) for k in BUILT if k in cfg
              for p, t in _mmedge_scoped(cfg[k].to_dict() if hasattr(cfg[k], 'to_dict')
                                         else cfg[k])]
    assert scoped, 'nothing inherited gets the mmedge scope: is the test still meaningful?'
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        with DefaultScope.overwrite_default_scope('mmedge'):
            missing = [(p, t) for p, t in scoped
                       if not any(c.get(t) is not None for c in children)]
    assert not missing, missing


@pytest.mark.parametrize('rel', [
    pytest.param('toy/toy_ssdlite_edgenext_s_coco.py', marks=needs_mmdet),
    pytest.param('toy/toy_deeplabv3_emo_1m_voc.py', marks=needs_mmseg),
    pytest.param('repnext/cls_repnext_m1_in1k.py', marks=needs_mmpretrain),
])
def test_inherited_model_builds_as_the_runner_builds_it(installed_layout, rel):
    from mmengine.registry import MODELS, DefaultScope
    cfg = _inherit(installed_layout, rel, extra='model = dict(backbone=dict(init_cfg=None))\n')
    assert cfg.model._scope_ in ('mmedge', cfg.default_scope)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert type(model.backbone).__module__.startswith('mmedge.models.backbones')
    assert type(model).__module__.split('.')[0] == cfg.default_scope


def test_without_import_mmedge_the_prefix_is_refused(tmp_path):
    """What a user sees when mmedge is not imported before the config is parsed."""
    import subprocess
    import sys
    user = tmp_path / 'my_config.py'
    user.write_text("_base_ = 'mmedge::edgenext/ssdlite_edgenext_s_coco.py'\n")
    code = f'from mmengine.config import Config; Config.fromfile({str(user)!r})'
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != 'PYTHONPATH'})
    assert proc.returncode != 0
    assert 'does not support to load mmedge config' in proc.stderr
