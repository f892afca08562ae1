"""``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=..., format=...)``: explicit formats,
the reading ``auto`` chose logged, converter errors surfacing, a missing file an error."""
import os.path as osp

import pytest
import torch

from mmedge.registry import MODELS
from mmedge.utils import checkpoint as ckpt_utils


@pytest.fixture
def log_file(tmp_path):
    """A fresh current MMLogger writing to a file (removed again afterwards)."""
    from mmengine.logging import MMLogger
    name = f'fmt_{tmp_path.name}'
    path = str(tmp_path / 'log.txt')
    logger = MMLogger.get_instance(name, log_file=path)
    yield lambda: open(path).read()
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)
    MMLogger._instance_dict.pop(name, None)


def _build(type_, arch, **init):
    import mmedge.models  # noqa: F401
    return MODELS.get(type_)(arch=arch, init_cfg=dict(type='Pretrained', **init))


def _official_file(tmp_path, ref_dir):
    state = torch.load(osp.join(ref_dir, 'fixtures', 'edgenext_xx_small_state.pth'),
                       weights_only=True)
    path = str(tmp_path / 'official.pth')
    torch.save({'model': state}, path)
    return path, state


def _mmedge_file(tmp_path):
    import mmedge.models  # noqa: F401
    torch.manual_seed(1)
    model = MODELS.get('RepNeXt')(arch='m0')
    path = str(tmp_path / 'mine.pth')
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in model.state_dict().items()}},
               path)
    return path, model.state_dict()


@pytest.mark.parametrize('fmt', ['auto', 'mmedge'])
def test_mmedge_file(tmp_path, log_file, fmt):
    path, state = _mmedge_file(tmp_path)
    model = _build('RepNeXt', 'm0', checkpoint=path, prefix='backbone.', format=fmt)
    model.init_weights()
    for k, v in state.items():
        assert torch.equal(model.state_dict()[k], v)
    log = log_file()
    assert f'RepNeXt: loaded {path}' in log
    if fmt == 'auto':
        assert "format='auto' chose mmedge: its keys are this model's keys" in log


def test_official_file_auto_and_official(tmp_path, ref_dir, log_file):
    path, state = _official_file(tmp_path, ref_dir)
    for fmt in ('auto', 'official'):
        model = _build('EdgeNeXt', 'xx_small', checkpoint=path, format=fmt)
        model.init_weights()
        conv = next(v for v in state.values() if v.ndim == 4)
        assert any(v.shape == conv.shape and torch.equal(v, conv)
                   for v in model.state_dict().values())
    log = log_file()
    assert "format='auto' chose official" in log and 'edgenext converter maps them all' in log
    assert "format='official': converted with the edgenext converter" in log
    # the same file read as mmedge keys does not fit, and says so
    model = _build('EdgeNeXt', 'xx_small', checkpoint=path, format='mmedge')
    with pytest.raises(ValueError, match="format='mmedge'"):
        model.init_weights()


def test_converter_error_surfaces(tmp_path, monkeypatch):
    import mmedge.converters

    def broken(sd, keep_head=False):
        raise KeyError('stages.9.weight: not the authors\' layout')

    monkeypatch.setitem(mmedge.converters.CONVERTERS, 'repnext', broken)
    path = str(tmp_path / 'other.pth')
    torch.save({'state_dict': {'foo.weight': torch.zeros(3)}}, path)
    with pytest.raises(KeyError, match='stages.9.weight'):
        _build('RepNeXt', 'm0', checkpoint=path, format='official').init_weights()
    # auto: the keys are not mmedge's, so the converter runs, and its error is reported
    with pytest.raises(ValueError, match='repnext converter failed on it') as info:
        _build('RepNeXt', 'm0', checkpoint=path).init_weights()
    assert isinstance(info.value.__cause__, KeyError)


def test_wrong_format_and_keys_are_clear_errors(tmp_path):
    path, _ = _mmedge_file(tmp_path)
    with pytest.raises(ValueError, match=r"format='timm' is not one of \('auto', "
                                         r"'official', 'mmedge'\)"):
        _build('RepNeXt', 'm0', checkpoint=path, format='timm').init_weights()
    with pytest.raises(ValueError, match=r"unknown keys \['fromat'\]"):
        _build('RepNeXt', 'm0', checkpoint=path, fromat='mmedge').init_weights()
    with pytest.raises(ValueError, match='no converter'):
        _build('EfficientViTPaper', 'base', checkpoint=path,
               format='official').init_weights()


def test_missing_file_error_and_no_loaded_line(tmp_path, log_file):
    absent = str(tmp_path / 'nope' / 'edgenext_small.pth')
    with pytest.raises(FileNotFoundError) as info:
        _build('EdgeNeXt', 'small', checkpoint=absent).init_weights()
    msg = str(info.value)
    assert absent in msg
    assert ckpt_utils.PRETRAINED_URLS[('edgenext', 'small')] in msg
    assert 'model.backbone.init_cfg=None' in msg
    assert 'loaded' not in log_file()
    # families without released weights say how to make them
    with pytest.raises(FileNotFoundError, match='cls_edgevit_xxs_in1k.py'):
        _build('EdgeViT', 'xxs', checkpoint=absent).init_weights()
    # aliases resolve to the same variant
    with pytest.raises(FileNotFoundError, match='EMO_5M'):
        _build('EMO', '5M', checkpoint=absent).init_weights()


def test_urls_are_the_configs():
    """Every URL in the table is cited by a config (one place for the knowledge, read off the
    configs' comments), and every config's Pretrained variant with a cited URL is in it."""
    import glob
    import re
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    text = ''.join(open(p).read() for p in glob.glob(osp.join(root, 'configs', '**', '*.py'), recursive=True))
    cited = set(re.findall(r'https?://\S+?\.pth?\b', text))
    for url in ckpt_utils.PRETRAINED_URLS.values():
        assert url in cited, url
