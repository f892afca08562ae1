"""model-index.yml and the per-family metafiles (mmpretrain's schema) describe every config.

Every config has exactly one Model entry whose Config exists; every Collection names its paper;
Weights are the authors' file that the config's ``init_cfg`` loads; the measured Parameters are
those of the built model (classification configs here; the zoo tables measure det / seg).
"""
import glob
import os.path as osp
import re

import pytest
import yaml
from conftest import needs_mmpretrain

from mmedge.utils.mim import find_config, list_configs, load_model_index, load_models

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FOLDERS = ('edgenext', 'edgevit', 'emo', 'efficientvit', 'repnext', 'toy')
TASK_METRICS = {
    'Object Detection': {'box AP', 'mask AP'},
    'Semantic Segmentation': {'mIoU'},
    'Image Classification': {'Top 1 Accuracy'},
}


def _configs():
    return sorted(
        osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
        if osp.basename(osp.dirname(p)) != '_base_')


def test_model_index_imports_one_metafile_per_folder():
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    assert index['Import'] == [f'configs/{d}/metafile.yml' for d in FOLDERS]
    for d in FOLDERS:
        assert osp.isfile(osp.join(ROOT, 'configs', d, 'README.md'))


def test_every_config_has_one_model_entry():
    models = load_model_index(ROOT)['Models']
    configs = [m['Config'] for m in models]
    assert sorted(configs) == _configs()  # each once, none missing, none stale
    for m in models:
        assert m['Name'] == osp.splitext(osp.basename(m['Config']))[0]
        # the metafile lives in the config's folder
        assert m['Collection'] is not None, m['Name']
        assert osp.dirname(m['Config']) == osp.dirname(m['Collection']['README'])


def test_collections_cite_the_paper_and_the_code():
    for c in load_model_index(ROOT)['Collections']:
        if c['Name'] == 'Toy':
            continue
        assert re.match(r'https://arxiv\.org/abs/\d{4}\.\d{5}', c['Paper']['URL']), c
        assert c['Paper']['Title']
        if c['Name'] != 'EfficientViT':  # the first paper's model has no official code
            assert c['Code']['URL'].startswith('https://github.com/'), c


def test_results_are_the_papers_metrics_with_their_source():
    for stem, m in load_models(ROOT).items():
        meta = m['Metadata']
        for r in m.get('Results') or []:
            assert set(r['Metrics']) <= TASK_METRICS[r['Task']], stem
            assert r['Task'] == meta['Task'] and r['Dataset'] == meta['Training Data']
            assert all(isinstance(v, float) for v in r['Metrics'].values())
            assert meta['Paper Source'], stem
        if stem.startswith('toy_'):
            assert 'Results' not in m and 'Paper Source' not in meta


def _checkpoint(path):
    """The config's backbone init checkpoint (or None), read from the parsed config."""
    from mmengine.config import Config
    cfg = Config.fromfile(path)
    init = cfg.model.get('backbone', {}).get('init_cfg') or {}
    return init.get('checkpoint')


@pytest.mark.parametrize('stem', sorted(s for s, m in load_models(ROOT).items()
                                        if m.get('Weights')))
def test_weights_are_the_file_the_config_loads(stem):
    m = load_models(ROOT)[stem]
    assert m['Converted From']['Weights'] == m['Weights']
    ckpt = _checkpoint(osp.join(ROOT, m['Config']))
    assert ckpt and osp.basename(ckpt) == osp.basename(m['Weights']), (ckpt, m['Weights'])
    assert m['Weights'].startswith('https://')


def test_configs_are_found_by_name_and_path():
    path = find_config('ssdlite_edgenext_s_coco')
    assert path.endswith(osp.join('configs', 'edgenext', 'ssdlite_edgenext_s_coco.py'))
    assert find_config('mmedge::edgenext/ssdlite_edgenext_s_coco.py') == path
    assert find_config('configs/edgenext/ssdlite_edgenext_s_coco.py') == path
    assert len(list_configs()) == len(_configs())
    with pytest.raises(FileNotFoundError, match='mim search mmedge'):
        find_config('ssdlite_edgenext_zz_coco')


@needs_mmpretrain
@pytest.mark.parametrize('stem', sorted(s for s in load_models(ROOT) if s.startswith('cls_')))
def test_cls_parameters_are_the_built_models(stem):
    pytest.importorskip('mmpretrain.models')
    from mmedge.utils.benchmark import build_model_from_config, count_params
    m = load_models(ROOT)[stem]
    _, model = build_model_from_config(osp.join(ROOT, m['Config']))
    assert count_params(model) == m['Metadata']['Parameters']
