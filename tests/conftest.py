"""Shared fixtures: the reference directory, default-scope switching, environment guards."""
import importlib.util
import os
import os.path as osp

import pytest

REFERENCE_ENV = 'MMEDGE_REFERENCE_DIR'


def reference_dir():
    """The authors' reference data (``../shared/reference``), or None when unavailable."""
    path = os.environ.get(REFERENCE_ENV)
    if path and osp.isdir(path):
        return path
    return None


@pytest.fixture
def ref_dir():
    path = reference_dir()
    if path is None:
        pytest.skip(f'{REFERENCE_ENV} is not set (or not a directory): the '
                    f'official reference fixtures are not available')
    return path


@pytest.fixture
def facts(ref_dir):
    import json
    with open(osp.join(ref_dir, 'facts.json')) as f:
        return json.load(f)


CONFIG_ROOT = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs')


def config_path(stem):
    """``configs/<folder>/<stem>.py`` of this checkout (one folder per family, ``toy``)."""
    import glob
    stem = stem[:-3] if stem.endswith('.py') else stem
    hits = [p for p in glob.glob(osp.join(CONFIG_ROOT, '*', stem + '.py'))
            if osp.basename(osp.dirname(p)) != '_base_']
    assert len(hits) == 1, f'config {stem}: {hits or "not found"} under {CONFIG_ROOT}'
    return hits[0]


def _have(pkg):
    return importlib.util.find_spec(pkg) is not None


needs_mmdet = pytest.mark.skipif(not _have('mmdet'), reason='mmdet missing')
needs_mmseg = pytest.mark.skipif(not _have('mmseg'), reason='mmseg missing')
needs_mmpretrain = pytest.mark.skipif(
    not _have('mmpretrain'), reason='mmpretrain missing')


@pytest.fixture
def scope():
    """``with scope('mmdet'): ...`` switches mmengine's DefaultScope and restores it."""
    from mmengine.registry import DefaultScope

    def _scope(name):
        return DefaultScope.overwrite_default_scope(name)

    return _scope


@pytest.fixture(autouse=True)
def _no_default_scope_left_behind():
    """Every test starts with the DefaultScope instances the previous one found: a Runner built
    in-process (tools/train.py's / test.py's main) creates an ``mmdet`` / ``mmseg`` instance that
    would otherwise stay the current scope, and an unscoped ``MODELS.build`` in a later test would
    then look in the wrong registry (tests/test_configs/test_det_toy.py and test_seg_toy.py did)."""
    from mmengine.registry import DefaultScope
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)
