"""Every detection config in configs/: it parses, builds under the mmdet scope with an mmedge
backbone, feeds the neck the channels of the backbone stages it outputs, and points the
backbone's init at a checkpoint file (the authors' format loads; a missing file only warns).
The paper pairings match the papers' parameter counts, and a missing dataset fails with a
message naming the expected layout.
"""
import functools
import glob
import os.path as osp

import pytest
import torch
from conftest import config_path, needs_mmdet

from mmedge.utils.mim import paper_table

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FRAMEWORKS = ('ssdlite', 'retinanet', 'maskrcnn', 'yolox')


def _det_configs(toy):
    out = []
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))):
        stem = osp.splitext(osp.basename(path))[0]
        parts = stem.split('_')
        if toy and parts[0] == 'toy' and parts[1] in FRAMEWORKS:
            out.append(stem)
        elif not toy and parts[0] in FRAMEWORKS:
            out.append(stem)
    return out


CONFIGS = _det_configs(toy=False)
TOY_CONFIGS = _det_configs(toy=True)
# the stock mmdet baseline of the learnability benchmark (not an mmedge backbone)
STOCK = {'toy_ssdlite_mobilenetv2_coco': 'mmdet.models.backbones.mobilenet_v2'}

# The papers' detector sizes (millions of parameters, the whole detector), read from the
# metafiles: every paper pairing that gives one, except EfficientViT-Det (10.6M; no reading of
# the paper reproduces it, see docs/model_zoo_det.md: its backbone is 2.3M and the detector is
# sized on the paper's MACs).
PAPER_PARAMS = {
    stem: p['params']
    for stem, p in paper_table(ROOT).items()
    if stem in CONFIGS and p['params'] and not stem.startswith('yolox_efficientvit_base')
}

pytestmark = needs_mmdet


def _path(stem):
    return config_path(stem)


@functools.lru_cache(maxsize=None)
def _cfg(stem):
    from mmengine.config import Config
    return Config.fromfile(_path(stem))


def _model(stem):
    """The config's detector, built under the mmdet scope (no weight init, SyncBN reverted)."""
    from mmdet.registry import MODELS
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import DefaultScope
    cfg = _cfg(stem)
    assert cfg.default_scope == 'mmdet'
    with DefaultScope.overwrite_default_scope('mmdet'):
        return revert_sync_batchnorm(MODELS.build(cfg.model)).eval()


def test_the_configs_are_found():
    assert 'ssdlite_edgenext_s_coco' in CONFIGS
    # the paper pairings with a detector size (SSDLite: EdgeNeXt, EMO; RetinaNet: EdgeViT, EMO;
    # Mask R-CNN: EdgeViT) all have it in their metafile
    assert len(PAPER_PARAMS) == 13, sorted(PAPER_PARAMS)
    assert len(CONFIGS) >= 24 and len(TOY_CONFIGS) >= 5
    for fw in FRAMEWORKS:
        assert any(
            s.startswith(fw + '_') and s.endswith('_coco') for s in CONFIGS)
    for ds in ('voc', 'cityscapes'):
        assert any(s.endswith('_' + ds) for s in CONFIGS)


def _neck_inputs(cfg):
    neck = cfg.model.neck
    return [int(c) for c in neck.in_channels]


@pytest.mark.parametrize('stem', CONFIGS + TOY_CONFIGS)
def test_builds_with_consistent_channels(stem):
    cfg = _cfg(stem)
    model = _model(stem)
    backbone = model.backbone
    if stem in STOCK:
        assert type(backbone).__module__ == STOCK[stem]
        return
    assert type(backbone).__module__.startswith('mmedge.')
    assert cfg.model.backbone.type.startswith('mmedge.')
    assert cfg.custom_imports['imports'] == ['mmedge.models']

    # the neck reads exactly the stages the backbone outputs
    feats = [backbone.out_channels[i] for i in backbone.out_indices]
    assert _neck_inputs(cfg) == feats
    neck, head = cfg.model.neck, cfg.model.get('bbox_head')
    if neck.type == 'SSDNeck':
        assert tuple(neck.out_channels[:len(feats)]) == tuple(feats)
        assert tuple(head.in_channels) == tuple(neck.out_channels)
    elif neck.type in ('FPN', 'YOLOXPAFPN'):
        heads = [head] if head else [
            cfg.model.rpn_head, cfg.model.roi_head.bbox_head,
            cfg.model.roi_head.mask_head
        ]
        for h in heads:
            assert h.in_channels == neck.out_channels
    else:
        raise AssertionError(f'unexpected neck {neck.type}')

    # and runs on it (eval mode; a size the data preprocessors' padding to 32 gives)
    with torch.no_grad():
        outs = model.extract_feat(torch.rand(1, 3, 64, 96))
    assert all(torch.isfinite(o).all() for o in outs)


@pytest.mark.parametrize('stem', CONFIGS)
def test_backbone_init_points_at_a_checkpoint_file(stem):
    init = _cfg(stem).model.backbone.init_cfg
    assert init.type == 'Pretrained' and init.prefix == 'backbone.'
    path = init.checkpoint
    assert path.startswith('checkpoints/')
    assert path.endswith(('.pth', '.pt')) and osp.basename(path)[:-4]


@pytest.mark.parametrize('stem', TOY_CONFIGS)
def test_toy_configs_train_from_scratch(stem):
    cfg = _cfg(stem)
    if stem not in STOCK:
        assert cfg.model.backbone.init_cfg is None
    assert cfg.toy_data.root and cfg.toy_data.format in ('coco', 'voc',
                                                         'cityscapes')


@pytest.mark.parametrize('stem', sorted(PAPER_PARAMS))
def test_params_match_the_paper(stem):
    params = sum(p.numel() for p in _model(stem).parameters()) / 1e6
    paper = PAPER_PARAMS[stem]
    assert abs(params - paper) <= 0.05 * paper, (stem, params, paper)


# one config per backbone family (class): building the real backbone and initialising it
INIT_CASES = {
    'EdgeNeXt': 'ssdlite_edgenext_s_coco',
    'EdgeViT': 'retinanet_edgevit_xxs_coco',
    'EMO': 'ssdlite_emo_1m_coco',
    'RepNeXt': 'maskrcnn_repnext_m3_coco',
    'EfficientViT': 'yolox_efficientvit_b1-r512_coco',
    'EfficientViTPaper': 'yolox_efficientvit_base-r512_coco',
}


def _backbone(stem, checkpoint):
    import copy

    from mmengine.model import revert_sync_batchnorm

    from mmedge.registry import MODELS
    cfg = copy.deepcopy(_cfg(stem).model.backbone)
    cfg.type = cfg.type[len('mmedge.'):]
    cfg.init_cfg.checkpoint = checkpoint
    return revert_sync_batchnorm(MODELS.build(cfg))


@pytest.mark.parametrize('cls_name', list(INIT_CASES))
def test_missing_checkpoint_is_an_error_naming_the_download(cls_name, tmp_path):
    """A config whose ImageNet file is absent stops (no silent training from scratch): the error
    names the path, the authors' address for that variant (or the classifier config to train
    where none was released) and how to train from scratch on purpose."""
    from mmedge.utils.checkpoint import PRETRAINED_URLS
    missing = str(tmp_path / 'absent.pth')
    backbone = _backbone(INIT_CASES[cls_name], missing)
    assert type(backbone).__name__ == cls_name
    with pytest.raises(FileNotFoundError) as info:
        backbone.init_weights()
    msg = str(info.value)
    assert missing in msg and 'model.backbone.init_cfg=None' in msg
    url = PRETRAINED_URLS.get((backbone.converter, backbone.arch_name))
    if url is not None:
        assert url in msg
    else:
        assert 'cls_' in msg and '_in1k' in msg, msg


# family -> (config, the authors' key file in the reference directory)
OFFICIAL_FILES = {
    'EdgeNeXt': ('ssdlite_edgenext_s_coco', 'edgenext_small'),
    'EdgeViT': ('maskrcnn_edgevit_s_coco', 'edgevit_s'),
    'EMO': ('ssdlite_emo_5m_coco', 'emo_5m'),
    'RepNeXt': ('maskrcnn_repnext_m4_coco', 'repnext_m4'),
    'EfficientViT': ('yolox_efficientvit_b2-r512_coco', 'efficientvit_b2'),
}


@pytest.mark.parametrize('cls_name', list(OFFICIAL_FILES))
def test_the_authors_file_loads_through_init_cfg(cls_name, ref_dir, tmp_path):
    """A file with the authors' keys and shapes (zeros) loads into the config's backbone."""
    stem, keys = OFFICIAL_FILES[cls_name]
    state = {}
    with open(osp.join(ref_dir, 'keys', keys + '.txt')) as f:
        for line in f:
            name, shape, dtype = line.rstrip('\n').split('\t')
            state[name] = torch.zeros(
                [int(s) for s in shape.strip('[]').split(',') if s.strip()],
                dtype=getattr(torch, dtype))
    path = str(tmp_path / 'official.pth')
    torch.save({'model': state}, path)
    backbone = _backbone(stem, path)
    backbone.init_weights()
    assert all(float(p.abs().sum()) == 0 for p in backbone.parameters())


def _with_data_root(cfg, root):
    """Point every leaf dataset of the config (through the dataset wrappers) at ``root``."""

    def visit(ds):
        if isinstance(ds, (list, tuple)):
            for d in ds:
                visit(d)
        elif 'datasets' in ds:
            visit(ds['datasets'])
        elif 'dataset' in ds:
            visit(ds['dataset'])
        else:
            ds['data_root'] = root

    for split in ('train', 'val', 'test'):
        visit(cfg[f'{split}_dataloader']['dataset'])
    return cfg


@pytest.mark.parametrize('stem, dataset, expected', [
    ('ssdlite_emo_1m_coco', 'CocoDataset', 'instances_train2017.json'),
    ('ssdlite_edgenext_s_voc', 'VOCDataset', 'VOC2012/ImageSets/Main'),
    ('retinanet_edgevit_xxs_voc', 'VOCDataset', 'VOC2007/'),
    ('yolox_efficientvit_b1-r512_voc', 'VOCDataset', 'VOC2012/'),
    ('yolox_efficientvit_base-r512_coco', 'CocoDataset', 'train2017/'),
    ('maskrcnn_repnext_m3_cityscapes', 'CityscapesDataset',
     'instancesonly_filtered_gtFine_train.json'),
])
def test_missing_dataset_names_the_layout(stem, dataset, expected, tmp_path):
    """Dataset wrappers (RepeatDataset / ConcatDataset / MultiImageMixDataset) are looked
    through: each VOC year / Cityscapes split is checked and its expected layout shown."""
    import copy

    from mmedge.utils.data_check import DatasetNotFoundError, check_datasets
    cfg = _with_data_root(copy.deepcopy(_cfg(stem)), str(tmp_path / 'x/'))
    with pytest.raises(DatasetNotFoundError) as info:
        check_datasets(cfg)
    msg = str(info.value)
    assert f'train dataset {dataset}' in msg and expected in msg
    assert 'expected layout' in msg and '--cfg-options' in msg
