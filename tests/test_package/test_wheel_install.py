"""mmedge as an installed package, end to end.  SLOW: the longest test of the suite (one wheel
build and seven short CPU-bound subprocesses; 9 min 42 s measured on a 2-core machine at a load
average of about 13, far less idle); set ``MMEDGE_SKIP_WHEEL_TEST=1`` to skip it while iterating
on something else.

1. A clean ``git clone`` of this repository (its committed HEAD) builds a wheel
   (``pip wheel --no-deps --no-build-isolation``); the wheel carries ``mmedge/.mim/`` with the
   configs, the tools and ``model-index.yml``.
2. A fresh virtualenv (``--system-site-packages`` for the pinned stack, ``--without-pip``: the
   system's pip installs into it) gets the wheel with ``--no-deps``; openmim comes from the
   system (tools/setup_env.sh installs it) or is installed into the venv with ``--no-deps``.
3. A user project in a temporary folder outside the checkout: ``my_config.py`` inherits
   ``mmedge::toy/toy_ssdlite_edgenext_xxs_coco.py`` and trains one iteration on two generated
   images.  It trains and tests through the installed package's ``tools/train.py`` /
   ``tools/test.py``, through ``mim train mmedge`` / ``mim test mmedge``, and trains through
   mmdet's own ``tools/train.py`` run by ``python -m mmedge``; ``mim search mmedge`` lists every
   config with the papers' numbers.
"""
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import needs_mmdet

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MIM_DEPS = ['model-index', 'ordered-set', 'pandas', 'click', 'colorama', 'rich', 'tabulate',
            'requests', 'markdown']

pytestmark = [
    needs_mmdet,
    pytest.mark.skipif(os.environ.get('MMEDGE_SKIP_WHEEL_TEST') == '1',
                       reason='MMEDGE_SKIP_WHEEL_TEST=1'),
    pytest.mark.skipif(shutil.which('git') is None or not osp.isdir(osp.join(ROOT, '.git'))
                       and not osp.isfile(osp.join(ROOT, '.git')),
                       reason='needs git and a git checkout'),
]

USER_CONFIG = """\
_base_ = 'mmedge::toy/toy_ssdlite_edgenext_xxs_coco.py'

# two generated training images (BatchNorm needs two), one iteration, one test image
data_root = '{root}'
toy_data = dict(root=data_root, num_train=2, num_val=1, img_size=(128, 128))
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(dataset=dict(data_root=data_root)))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
"""


def _run(cmd, cwd, env, timeout=300):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, (
        f'{" ".join(map(str, cmd))} failed ({proc.returncode}):\n'
        f'{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    return proc.stdout


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """(venv python, environment) with the wheel of a clean clone installed."""
    tmp = tmp_path_factory.mktemp('wheel')
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(OMP_NUM_THREADS='1', PIP_DISABLE_PIP_VERSION_CHECK='1',
               MPLBACKEND='Agg')
    clone, dist = tmp / 'clone', tmp / 'dist'
    _run(['git', 'clone', '--quiet', '--no-hardlinks', ROOT, str(clone)], tmp, env)
    _run([sys.executable, '-m', 'pip', 'wheel', '--quiet', '--no-deps',
          '--no-build-isolation', '-w', str(dist), str(clone)], tmp, env)
    wheel, = glob.glob(str(dist / 'mmedge-*.whl'))
    venv = tmp / 'venv'
    _run([sys.executable, '-m', 'venv', '--system-site-packages', '--without-pip',
          str(venv)], tmp, env)
    python = str(venv / 'bin' / 'python')
    pip = [python, '-m', 'pip', 'install', '--quiet', '--no-deps']
    # --ignore-installed: a system-wide (e.g. editable) mmedge stays where it is
    _run(pip + ['--ignore-installed', wheel], tmp, env)
    probe = subprocess.run([python, '-c', 'import mim, modelindex, pandas'], env=env,
                           capture_output=True)
    if probe.returncode != 0:  # openmim without its openxlab pin (it downgrades setuptools)
        _run(pip + ['openmim==0.3.9'], tmp, env)
        _run([python, '-m', 'pip', 'install', '--quiet', '-c',
              osp.join(ROOT, 'tools', 'constraints.txt')] + MIM_DEPS, tmp, env)
    return python, env, clone


def test_wheel_carries_the_mim_files(installed):
    python, env, clone = installed
    out = _run([python, '-c', 'import mmedge, os.path as o; print(o.dirname(mmedge.__file__))'],
               '/', env).strip()
    assert 'venv' in out and not out.startswith(ROOT)  # the installed copy, not a checkout
    mim = osp.join(out, '.mim')
    for rel in ('model-index.yml', 'configs/edgenext/metafile.yml',
                'configs/edgenext/ssdlite_edgenext_s_coco.py', 'configs/_base_/det_ssdlite_coco.py',
                'tools/train.py', 'tools/test.py', 'tools/dist_train.sh'):
        assert osp.isfile(osp.join(mim, rel)), rel
        assert not osp.islink(osp.join(mim, rel))  # copies, not links into the build tree
    n_configs = len(glob.glob(osp.join(clone, 'configs', '*', '*.py')))
    assert len(glob.glob(osp.join(mim, 'configs', '*', '*.py'))) == n_configs


def test_user_project_trains_and_tests(installed, tmp_path):
    python, env, _ = installed
    project = tmp_path / 'my_project'
    project.mkdir()
    root = str(project / 'data' / 'toy_coco') + '/'
    (project / 'my_config.py').write_text(USER_CONFIG.format(root=root))
    cfg = 'my_config.py'

    def tool(name):  # the installed package's copy of tools/<name>
        return _run([python, '-c', 'import mmedge, os.path as o; '
                     f'print(o.join(o.dirname(mmedge.__file__), ".mim", "tools", "{name}"))'],
                    project, env).strip()

    # 1. mmedge's tools/train.py and tools/test.py (it generates the toy data first)
    _run([python, tool('train.py'), cfg, '--work-dir', 'work_tools'], project, env)
    ckpt = project / 'work_tools' / 'epoch_1.pth'
    assert ckpt.is_file() and osp.isfile(osp.join(root, '.toy_dataset.json'))
    _run([python, tool('test.py'), cfg, str(ckpt), '--work-dir', 'work_tools'], project, env)
    with open(project / 'work_tools' / 'metrics.json') as f:
        assert 0. <= json.load(f)['coco/bbox_mAP'] <= 1.

    # 2. mim train / mim test mmedge
    _run([python, '-m', 'mim', 'train', 'mmedge', cfg, '--work-dir', 'work_mim'], project, env)
    ckpt = project / 'work_mim' / 'epoch_1.pth'
    assert ckpt.is_file()
    _run([python, '-m', 'mim', 'test', 'mmedge', cfg, '--checkpoint', str(ckpt),
          '--work-dir', 'work_mim'], project, env)
    with open(project / 'work_mim' / 'metrics.json') as f:
        assert 'coco/bbox_mAP' in json.load(f)

    # 3. mmdet's own tools/train.py, with mmedge imported first
    mmdet_train = _run([python, '-c', 'import mmdet, os.path as o; '
                        'print(o.join(o.dirname(mmdet.__file__), ".mim", "tools", "train.py"))'],
                       project, env).strip()
    if not osp.isfile(mmdet_train):
        pytest.skip(f'this mmdet install has no {mmdet_train}')
    _run([python, '-m', 'mmedge', mmdet_train, cfg, '--work-dir', 'work_mmdet'], project, env)
    assert (project / 'work_mmdet' / 'epoch_1.pth').is_file()


def test_mim_search_lists_every_config_with_the_papers_numbers(installed, tmp_path):
    python, env, clone = installed
    out = tmp_path / 'search.json'
    _run([python, '-m', 'mim', 'search', 'mmedge', '--json', str(out)], tmp_path, env)
    with open(out) as f:  # column -> {config: value}
        columns = json.load(f)
    rows = {}
    for column, values in columns.items():
        for name, value in values.items():
            rows.setdefault(name, {})[column] = value
    n_configs = len(glob.glob(osp.join(clone, 'configs', '*', '*.py'))) - len(
        glob.glob(osp.join(clone, 'configs', '_base_', '*.py')))
    assert len(rows) == n_configs
    with open(osp.join(clone, 'configs', 'edgenext', 'metafile.yml')) as f:
        model = next(m for m in yaml.safe_load(f)['Models']
                     if m['Name'] == 'ssdlite_edgenext_s_coco')
    row = rows['ssdlite_edgenext_s_coco']
    assert model['Results'][0]['Metrics']['box AP'] == 27.9
    assert row['coco/box_ap'] == 27.9, row  # the paper's COCO box AP
    assert row['parameters'] == model['Metadata']['Parameters']
    assert row['config'] == 'configs/edgenext/ssdlite_edgenext_s_coco.py'
    assert rows['cls_emo_5m_in1k']['imagenet-1k/top_1_accuracy'] == 78.4
