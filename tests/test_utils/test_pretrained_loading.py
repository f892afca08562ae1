"""``init_cfg=Pretrained`` takes the authors' files, also into classification-mode backbones."""
import argparse
import os.path as osp

import pytest
import torch

from mmedge.registry import MODELS


@pytest.mark.parametrize('cls_name,arch,fixture,extra', [
    ('EdgeNeXt', 'xx_small', 'edgenext_xx_small', dict(gap_before_final_norm=True)),
    ('EdgeViT', 'xxs', 'edgevit_xxs', dict(final_norm=True)),
])
def test_official_file_into_classifier_backbone(tmp_path, ref_dir, cls_name,
                                                arch, fixture, extra):
    import mmedge.models  # noqa: F401
    state = torch.load(
        osp.join(ref_dir, 'fixtures', f'{fixture}_state.pth'), weights_only=True)
    path = str(tmp_path / 'official.pth')
    torch.save({'model': state, 'args': argparse.Namespace(lr=1.)}, path)
    cls = MODELS.get(cls_name)
    model = cls(arch=arch, out_indices=(3, ), **extra,
                init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    # the official final norm (randomised in the fixture) landed in the backbone
    official = state['norm.weight']
    assert any(v.shape == official.shape and torch.equal(v, official)
               for v in model.state_dict().values())


def test_wrong_file_is_refused_clearly(tmp_path):
    import mmedge.models  # noqa: F401
    path = str(tmp_path / 'other.pth')
    torch.save({'state_dict': {'foo.weight': torch.zeros(3)}}, path)
    model = MODELS.get('RepNeXt')(
        arch='m0', init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(ValueError, match='fits neither'):
        model.init_weights()


def test_missing_file_is_an_error_naming_the_download(tmp_path):
    import mmedge.models  # noqa: F401
    absent = str(tmp_path / 'absent.pth')
    model = MODELS.get('EMO')(
        arch='1m', init_cfg=dict(type='Pretrained', checkpoint=absent))
    with pytest.raises(FileNotFoundError) as info:
        model.init_weights()
    msg = str(info.value)
    assert absent in msg
    assert 'https://github.com/zhangzjn/EMO/raw/main/resources/EMO_1M/net.pth' in msg
    assert '--cfg-options model.backbone.init_cfg=None' in msg
