"""``type='mmedge.X'`` builds under the mmdet, mmseg and mmpretrain default scopes (no custom_imports);
the backbones need none of them, and a broken one disables only its own heads."""
import os.path as osp

import pytest
import torch
from conftest import needs_mmdet, needs_mmpretrain, needs_mmseg

BACKBONE = dict(type='mmedge.EdgeNeXt', arch='xx_small', out_indices=(1, 2, 3))
CHANNELS = [48, 88, 168]


def test_registry_is_a_scoped_child_of_the_root():
    from mmengine.registry import MODELS as ROOT

    from mmedge.registry import MODELS
    assert MODELS.scope == 'mmedge'
    assert MODELS.parent is ROOT
    assert ROOT.children['mmedge'] is MODELS
    # lazy: the location import registers the backbones
    assert MODELS.get('EdgeNeXt').__module__ == 'mmedge.models.backbones.edgenext'
    assert MODELS.get('LN2d').__module__ == 'mmedge.models.layers.norm'


@needs_mmdet
def test_detector_under_mmdet_scope(scope):
    from mmdet.registry import MODELS
    from mmengine.model import revert_sync_batchnorm
    cfg = dict(
        type='RetinaNet',
        data_preprocessor=dict(type='DetDataPreprocessor', pad_size_divisor=32),
        backbone=BACKBONE,
        neck=dict(type='FPN', in_channels=CHANNELS, out_channels=32,
                  start_level=0, add_extra_convs='on_input', num_outs=4),
        bbox_head=dict(
            type='RetinaHead', num_classes=3, in_channels=32,
            stacked_convs=1, feat_channels=32,
            anchor_generator=dict(
                type='AnchorGenerator', octave_base_scale=4,
                scales_per_octave=1, ratios=[1.0], strides=[8, 16, 32, 64]),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder',
                            target_means=[0.] * 4, target_stds=[1.] * 4),
            loss_cls=dict(type='FocalLoss', use_sigmoid=True),
            loss_bbox=dict(type='L1Loss')),
        test_cfg=dict(nms_pre=100, score_thr=0.05,
                      nms=dict(type='nms', iou_threshold=0.5),
                      max_per_img=10))
    with scope('mmdet'):
        model = revert_sync_batchnorm(MODELS.build(cfg))
    assert type(model.backbone).__module__.startswith('mmedge.')
    model.init_weights()
    feats = model.extract_feat(torch.randn(1, 3, 64, 64))
    assert [f.shape[1] for f in feats] == [32] * 4


@needs_mmseg
def test_segmentor_under_mmseg_scope(scope):
    from mmseg.registry import MODELS
    cfg = dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor',
                               size_divisor=32),
        backbone=BACKBONE,
        decode_head=dict(
            type='FCNHead', in_channels=168, channels=16, num_convs=1,
            num_classes=4, norm_cfg=dict(type='BN')),
        test_cfg=dict(mode='whole'))
    with scope('mmseg'):
        model = MODELS.build(cfg)
    assert type(model.backbone).__module__.startswith('mmedge.')
    model.init_weights()
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64), mode='tensor')
    assert out.shape == (1, 4, 2, 2)


@needs_mmpretrain
def test_classifier_under_mmpretrain_scope(scope):
    from mmpretrain.registry import MODELS
    cfg = dict(
        type='ImageClassifier',
        backbone=dict(BACKBONE, out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=5, in_channels=168))
    with scope('mmpretrain'):
        model = MODELS.build(cfg)
    # mmpretrain has its own EdgeNeXt: the prefix must pick ours
    assert type(model.backbone).__module__.startswith('mmedge.')
    model.init_weights()
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 64, 64), mode='tensor')
    assert out.shape == (2, 5)


@needs_mmdet
def test_unprefixed_name_does_not_resolve(scope):
    from mmdet.registry import MODELS
    with scope('mmdet'):
        with pytest.raises(KeyError):
            MODELS.build(dict(type='EdgeNeXt'))


# ---------------------------------------------------------------- backbones without task packages
TASK_PACKAGES = ('mmdet', 'mmseg', 'mmpretrain')
ROOT_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))

# Run in a fresh interpreter: what is imported, registered and warned there leaves this process
# (sys.modules, the registries, warning filters) untouched.
_CHILD = r'''
import json, sys, warnings
broken = sys.argv[1]
TASKS = ('mmdet', 'mmseg', 'mmpretrain')
report = {}
import mmedge.models  # noqa: F401
report['after_import'] = sorted(m for m in TASKS if m in sys.modules)
import torch
from mmengine.registry import MODELS as ROOT
model = ROOT.build(dict(type='mmedge.EdgeNeXt', arch='xx_small', out_indices=(3, )))
with torch.no_grad():
    report['shape'] = list(model(torch.randn(1, 3, 64, 64))[0].shape)
report['after_backbone'] = sorted(m for m in TASKS if m in sys.modules)
from mmedge.models import heads
report['registered'] = {}
report['errors'] = {}
for name in heads.__all__:
    try:
        report['registered'][name] = ROOT.get('mmedge.' + name) is not None
    except ImportError as err:
        report['errors'][name] = str(err)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    report['loaded'] = sorted(heads.import_all())
report['warnings'] = [str(w.message) for w in caught if 'mmedge' in str(w.message)]
report['package_of'] = {n: pkg for n, (_, pkg) in heads._INDEX.items()}
import importlib
report['works'] = {}  # which task packages import here, on their own
for pkg in TASKS:
    try:
        importlib.import_module(pkg + '.models')
        report['works'][pkg] = True
    except Exception:
        report['works'][pkg] = False
print('REPORT ' + json.dumps(report))
'''


def _run_child(tmp_path, broken=None, where='init'):
    """Run ``_CHILD`` with ``broken`` shadowed by a package that fails to import.

    ``where='init'``: its ``__init__`` raises; ``'models'``: it imports, its ``models`` raises (a
    half-broken install).
    """
    import json
    import os
    import subprocess
    import sys
    paths = [ROOT_DIR]
    if broken:
        shadow = tmp_path / 'shadow' / broken
        shadow.mkdir(parents=True)
        fail = f'raise ImportError("this {broken} install is broken (test)")\n'
        if where == 'init':
            (shadow / '__init__.py').write_text(fail)
        else:
            (shadow / '__init__.py').write_text('')
            (shadow / 'models').mkdir()
            (shadow / 'models' / '__init__.py').write_text(fail)
        paths.insert(0, str(tmp_path / 'shadow'))
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join(
        paths + [p for p in [os.environ.get('PYTHONPATH')] if p])
    proc = subprocess.run([sys.executable, '-c', _CHILD, str(broken)],
                          capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [s for s in proc.stdout.splitlines() if s.startswith('REPORT ')]
    assert line, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(line[-1][len('REPORT '):])


def _installed(pkg):
    import importlib.util
    return importlib.util.find_spec(pkg) is not None


def test_backbones_import_no_task_package(tmp_path):
    """``import mmedge.models`` and a backbone lookup import none of mmdet / mmseg / mmpretrain;
    a head lookup imports its own package and registers the head."""
    rep = _run_child(tmp_path)
    assert rep['after_import'] == [] and rep['after_backbone'] == []
    assert rep['shape'] == [1, 168, 2, 2]
    assert rep['errors'] == {n: rep['errors'][n] for n, pkg in
                             rep['package_of'].items() if not _installed(pkg)}
    for name, pkg in rep['package_of'].items():
        assert rep['registered'].get(name, False) == _installed(pkg), name
        if not _installed(pkg):  # absent: an error naming the package, no warning
            assert pkg in rep['errors'][name] and 'not installed' in rep['errors'][name]
    assert rep['warnings'] == []


@pytest.mark.parametrize('broken,where', [
    ('mmdet', 'init'), ('mmseg', 'init'), ('mmpretrain', 'models')])
def test_a_broken_task_package_only_disables_its_heads(tmp_path, broken, where):
    """Shadow a task package with a broken one: the backbones build, the heads of the packages
    that still import register, the broken package's heads say why they are unavailable."""
    rep = _run_child(tmp_path, broken, where)
    # the backbone resolves and runs
    assert rep['shape'] == [1, 168, 2, 2]
    assert broken not in rep['after_backbone']
    assert rep['works'][broken] is False
    # mmseg imports mmdet (Mask2Former): a broken mmdet takes mmseg with it
    working = [p for p in TASK_PACKAGES if _installed(p) and rep['works'][p]]
    assert working or not any(_installed(p) for p in TASK_PACKAGES if p != broken)
    own = sorted(n for n, pkg in rep['package_of'].items() if pkg == broken)
    assert own, f'no mmedge head needs {broken}?'
    for name, pkg in rep['package_of'].items():
        if pkg in working:
            # the heads of the working packages still register
            assert rep['registered'][name] is True, (name, rep['errors'].get(name))
            assert name in rep['loaded']
        elif _installed(pkg):
            # asking for a head of a failing package names it and the cause
            assert not rep['registered'].get(name, False)
            err = rep['errors'][name]
            assert pkg in err and 'fails to import' in err and 'broken (test)' in err
            assert pkg == broken or f'because {broken} does' in err
            assert name not in rep['loaded']
    # importing every head warns once per failing package, naming it and its heads
    msgs = [m for m in rep['warnings'] if f'mmedge: {broken} fails' in m]
    assert len(msgs) == 1, rep['warnings']
    assert all(name in msgs[0] for name in own)
