"""Every segmentation config of configs/ parses, builds under the mmseg scope with an mmedge
backbone whose out_channels feed the heads, follows the mmseg conventions of STYLE.md §8,
has the paper's model size, and fails clearly when its checkpoint or dataset is missing."""
import glob
import os.path as osp
import sys
import warnings

import pytest
from conftest import config_path, needs_mmseg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
FRAMEWORKS = ('deeplabv3', 'pspnet', 'fpn', 'efficientvitseg')


def _seg_configs():
    out = []
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))):
        stem = osp.splitext(osp.basename(path))[0]
        parts = stem.split('_')
        framework = parts[1] if parts[0] == 'toy' else parts[0]
        if framework in FRAMEWORKS:
            out.append(stem)
    return out


SEG_CONFIGS = _seg_configs()
PAPER_CONFIGS = [s for s in SEG_CONFIGS if not s.startswith('toy_')]
# The stock mmseg baseline of the learnability benchmark keeps mmseg's MobileNetV2.
STOCK_BACKBONE = {'toy_deeplabv3_mobilenetv2_voc'}
# Paper pairings whose built segmentor has the paper's parameter count (within 5 %); the
# others are explained in docs/model_zoo_seg.md (EfficientViT-Seg: 2.4M vs 6.5M).
PARAMS_MATCH = [
    'deeplabv3_edgenext_s_voc', 'deeplabv3_emo_1m_ade20k',
    'deeplabv3_emo_2m_ade20k', 'deeplabv3_emo_5m_ade20k',
    'pspnet_emo_1m_ade20k', 'pspnet_emo_2m_ade20k', 'pspnet_emo_5m_ade20k',
    'fpn_edgevit_xxs_ade20k', 'fpn_edgevit_xs_ade20k', 'fpn_edgevit_s_ade20k'
]


def _cfg(stem):
    from mmengine.config import Config
    return Config.fromfile(config_path(stem))


def _build(cfg, scope):
    import copy

    from mmengine.model import revert_sync_batchnorm
    from mmseg.registry import MODELS
    model_cfg = copy.deepcopy(cfg.model)
    if model_cfg.backbone.get('init_cfg'):
        model_cfg.backbone.init_cfg = None
    with scope(cfg.default_scope):
        return revert_sync_batchnorm(MODELS.build(model_cfg))


def test_the_issue_pairings_exist():
    wanted = [
        'deeplabv3_edgenext_s_voc', *[
            f'{fw}_emo_{v}_ade20k' for fw in ('deeplabv3', 'pspnet')
            for v in ('1m', '2m', '5m')
        ], *[f'fpn_edgevit_{v}_ade20k' for v in ('xxs', 'xs', 's')],
        *[f'fpn_repnext_{v}_ade20k' for v in ('m3', 'm4', 'm5')],
        'efficientvitseg_efficientvit_base_cityscapes',
        'efficientvitseg_efficientvit_base_cityscapes-r1536',
        'efficientvitseg_efficientvit_base_cityscapes-r1408',
        'efficientvitseg_efficientvit_b1_cityscapes',
        'efficientvitseg_efficientvit_b2_cityscapes',
        'toy_deeplabv3_emo_1m_voc', 'toy_deeplabv3_mobilenetv2_voc'
    ]
    assert not set(wanted) - set(SEG_CONFIGS)
    for fw in ('deeplabv3', 'pspnet', 'fpn'):
        assert any(
            s.startswith(fw + '_') and s.endswith('_cityscapes')
            for s in SEG_CONFIGS), fw


@pytest.mark.parametrize('stem', SEG_CONFIGS)
def test_config_conventions(stem):
    cfg = _cfg(stem)
    assert cfg.default_scope == 'mmseg'
    assert cfg.custom_imports == dict(
        imports=['mmedge.models'], allow_failed_imports=False)
    assert cfg.model.get('pretrained') is None
    assert cfg.model.data_preprocessor.test_cfg == dict(size_divisor=32)
    backbone = cfg.model.backbone
    if stem in STOCK_BACKBONE:
        return
    assert backbone.type.startswith('mmedge.')
    if stem.startswith('toy_'):
        assert backbone.get('init_cfg') is None  # offline: from scratch
        assert cfg.toy_data.format == 'voc'
    else:
        init = backbone.init_cfg
        assert init.type == 'Pretrained'
        assert init.checkpoint == cfg.checkpoint_file
        assert init.checkpoint.startswith('checkpoints/')
        with open(config_path(stem)) as f:
            head = f.read(600)
        assert 'Paper' in head or 'no paper pairing' in head.lower()


@needs_mmseg
@pytest.mark.parametrize('stem', SEG_CONFIGS)
def test_config_builds_and_channels_agree(stem, scope):
    cfg = _cfg(stem)
    model = _build(cfg, scope)
    backbone = model.backbone
    if stem in STOCK_BACKBONE:
        assert type(backbone).__module__.startswith('mmseg.')
        return
    assert type(backbone).__module__.startswith('mmedge.models.backbones')
    outs = [backbone.out_channels[i] for i in backbone.out_indices]
    if model.with_neck:  # Semantic FPN: the neck takes every backbone output
        assert list(model.neck.in_channels) == outs
        feeds = [model.neck.out_channels] * model.neck.num_outs
    else:
        feeds = outs
    heads = [model.decode_head]
    if model.with_auxiliary_head:
        heads.append(model.auxiliary_head)
    for head in heads:
        if isinstance(head.in_index, (list, tuple)):
            assert list(head.in_channels) == [feeds[i] for i in head.in_index]
        else:
            assert head.in_channels == feeds[head.in_index]
        assert head.num_classes == (4 if stem.startswith('toy_') else {
            'ade20k': 150,
            'voc': 21,
            'cityscapes': 19
        }[stem.split('_')[-1].split('-')[0]])


@needs_mmseg
def test_toy_baseline_is_mmseg_stock_model():
    """The learnability baseline is mmseg's MobileNetV2 DeepLabv3 (num_classes aside)."""
    from mmengine.hub import get_config
    stock = get_config('mmseg::mobilenet_v2/'
                       'mobilenet-v2-d8_deeplabv3_4xb4-160k_ade20k-512x512.py')
    ours = _cfg('toy_deeplabv3_mobilenetv2_voc')
    ref = _cfg('toy_deeplabv3_emo_1m_voc')
    backbone = dict(ours.model.backbone)
    assert backbone.pop('init_cfg') is None
    assert backbone == stock.model.backbone
    for key in ('decode_head', 'auxiliary_head'):
        a, b = dict(ours.model[key]), dict(stock.model[key])
        assert a.pop('num_classes') == 4
        b.pop('num_classes')
        assert a == b
    # same data and schedule as the EMO toy config
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'optim_wrapper', 'param_scheduler', 'train_cfg', 'toy_data'):
        assert ours[key] == ref[key], key


@needs_mmseg
@pytest.mark.parametrize('stem', PARAMS_MATCH)
def test_params_match_the_paper(stem, scope):
    from mmedge.utils.mim import paper_table
    model = _build(_cfg(stem), scope)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    paper = paper_table(ROOT)[stem]['params']  # from the metafile
    assert abs(params - paper) / paper < 0.05, (stem, params, paper)


def test_zoo_table_lists_every_config():
    with open(osp.join(ROOT, 'docs', 'model_zoo_seg.md')) as f:
        text = f.read()
    for stem in PAPER_CONFIGS:
        assert f'`{stem}`' in text, stem
    assert 'tools/analysis_tools/seg_zoo_table.py' in text


@needs_mmseg
def test_missing_checkpoint_is_an_error_naming_the_download(tmp_path, scope):
    from mmseg.registry import MODELS

    from mmedge.utils.checkpoint import PRETRAINED_URLS
    cfg = _cfg('pspnet_emo_1m_ade20k')
    missing = str(tmp_path / 'absent.pth')
    cfg.model.backbone.init_cfg.checkpoint = missing
    with scope('mmseg'):
        model = MODELS.build(cfg.model)
    with pytest.raises(FileNotFoundError) as info:
        model.init_weights()
    msg = str(info.value)
    assert missing in msg and PRETRAINED_URLS[('emo', '1m')] in msg
    assert 'model.backbone.init_cfg=None' in msg


@pytest.mark.parametrize('stem, dataset, expect', [
    ('deeplabv3_emo_1m_ade20k', 'ADE20KDataset', 'ADEChallengeData2016'),
    ('fpn_repnext_m3_ade20k', 'ADE20KDataset', 'annotations/'),
    ('deeplabv3_edgenext_s_voc', 'PascalVOCDataset', 'SegmentationClassAug'),
    ('efficientvitseg_efficientvit_base_cityscapes', 'CityscapesDataset',
     'labelTrainIds'),
    ('fpn_repnext_m3_cityscapes', 'CityscapesDataset', 'leftImg8bit'),
    ('toy_deeplabv3_emo_1m_voc', 'BaseSegDataset', 'seg_map_suffix'),
])
def test_missing_dataset_names_the_layout(tmp_path, stem, dataset, expect):
    from mmedge.utils.data_check import DatasetNotFoundError, check_datasets
    cfg = _cfg(stem)
    root = str(tmp_path / 'nowhere') + '/'
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        ds = loader.dataset
        for leaf in ds.get('datasets', [ds]):
            leaf.data_root = root
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(DatasetNotFoundError) as info:
            check_datasets(cfg)
    msg = str(info.value)
    assert dataset in msg and 'expected layout' in msg and expect in msg
    assert root in msg
