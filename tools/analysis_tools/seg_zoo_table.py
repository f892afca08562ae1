"""Params and FLOPs of every segmentation config next to the papers' numbers (model_zoo_seg.md).

    python tools/analysis_tools/seg_zoo_table.py [--out docs/model_zoo_seg.md] \
        [--configs configs/emo/deeplabv3_emo_1m_ade20k.py ...] [--no-flops]

Params: every parameter of the built segmentor (auxiliary head included, as the EMO paper
counts them). FLOPs: fvcore MACs (1 per multiply-add, norms included; the counter the papers
use, :func:`mmedge.utils.benchmark.count_macs`) of the tensor-mode forward, i.e. backbone +
neck + decode head on one image of the config's test size, without the auxiliary head (mmseg's
get_flops counts the same graph). A second count leaves out the attention products (matmul /
einsum / scaled-dot-product attention), which mmcv's module-hook counter (mmseg 0.x
``get_flops``, used by the EMO authors) never sees.
"""
import functools
import glob
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

FRAMEWORKS = ('deeplabv3', 'pspnet', 'fpn', 'efficientvitseg')


@functools.lru_cache(maxsize=None)
def _papers():
    from mmedge.utils.mim import paper_table
    return paper_table()


def paper(stem):
    """The paper's numbers of a config from its metafile: (source, params M, FLOPs G, mIoU)."""
    p = _papers().get(stem)
    if p is None:
        return '-', None, None, None
    return p['source'], p['params'], p['flops'], p['metrics'].get('mIoU')


# Why a config is more than 5 % off the paper (the numbers are in the table).
NOTES = {
    'efficientvitseg_efficientvit_base_cityscapes':
    "MACs match. Params: no reading of the paper's text reproduces its 7.9M "
    '(classifier) / 6.5M (segmentor) counts; the backbone alone is 2.30M '
    '(EfficientViT paper Sec. 3.2.3 widths), so MACs are the target.',
}
for _stem in ('deeplabv3_emo_5m_ade20k', 'pspnet_emo_5m_ade20k'):
    NOTES[_stem] = (
        'params match. FLOPs: the paper (mmseg 0.x get_flops, mmcv module '
        'hooks) does not count the attention products; without them the count '
        'matches. With them, the window-16 attention of EMO-5M at 512x512 adds '
        'about 0.75G.')
NOTES['efficientvitseg_efficientvit_base_cityscapes-r1536'] = NOTES[
    'efficientvitseg_efficientvit_base_cityscapes']
NOTES['efficientvitseg_efficientvit_base_cityscapes-r1408'] = NOTES[
    'efficientvitseg_efficientvit_base_cityscapes']

# What each framework consumes and the decisions where the papers are silent.
RECIPES = [
    '* Feature maps: DeepLabv3 / PSPNet take backbone output 3 (stride 32; the '
    'backbones are not dilated, except EdgeNeXt-S in DeepLabv3 on VOC, which '
    'runs at output stride 16 as in the paper), their FCN auxiliary head '
    'output 2 (stride 16), as in the EMO configs; Semantic FPN takes all four outputs (strides '
    '4-32); EfficientViT-Seg fuses outputs 1 and 3 (strides 8 and 32, the '
    "paper's P2 and P4). EdgeNeXt's DeepLabv3 has no auxiliary head (ml-cvnets).",
    '* EfficientViT-Seg head (`mmedge.EfficientViTSegHead`, the paper gives only '
    '"fuse P2 and P4 ... several convolution layers, following Fast-SCNN"): '
    "Fast-SCNN's feature fusion (1x1 conv on P2; P4 upsampled to stride 8, 3x3 "
    'depthwise conv with dilation 4, 1x1 conv; added), 128 channels, 2 '
    'depthwise-separable convs, hardswish, BN; 2.4 GMACs at 1024x2048. '
    'Training choices: 1024x1024 crops, the SegFormer Cityscapes optimizer '
    '(AdamW 6e-5, wd 0.01, head LR x10, 1500 warm-up iterations, poly), the '
    "paper's 485 epochs at batch 16. r1536 / r1408 test the r2048 model at "
    'the lower resolution. The B1 / B2 configs put the same head on MIT\'s '
    'released B-series backbones (not the head of MIT\'s released '
    'EfficientViT-Seg models).',
    "* EdgeNeXt-S DeepLabv3 follows ml-cvnets' MobileViT recipe (the paper's "
    'reference): ASPP 128 wide with a 1x1 projection '
    '(`mmedge.MobileViTASPPHead`), AdamW 9e-4 cosine, 50 epochs at batch 128, '
    'EMA; SBD-augmented VOC only (no extra COCO data).',
    '* The Cityscapes DeepLabv3 / PSPNet / Semantic FPN configs carry the EMO '
    '(DeepLabv3, PSPNet) and RepNeXt (Semantic FPN) ADE20K recipes over to '
    "mmseg's Cityscapes 512x1024 / 80k set-up.",
    '* EdgeViT and the paper\'s EfficientViT-Base have no released ImageNet '
    'weights: their configs point at `checkpoints/edgevit_*.pth` / '
    '`checkpoints/efficientvit_base.pth` for weights trained with the '
    '`cls_*_in1k.py` configs; a missing file only warns.',
]


def seg_configs():
    """Every segmentation config of configs/ (toy configs excluded), sorted."""
    out = []
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))):
        stem = osp.splitext(osp.basename(path))[0]
        if stem.split('_')[0] in FRAMEWORKS:
            out.append(path)
    return out


def test_size(cfg):
    """(H, W) of one test image after the config's test pipeline, for the FLOPs count."""
    for t in cfg.test_dataloader.dataset.pipeline:
        if t['type'] == 'Resize':
            long_side, short_side = t['scale']
            break
    else:
        raise ValueError('no Resize in the test pipeline')
    root = cfg.test_dataloader.dataset.get('data_root', '')
    if 'cityscapes' in root.lower():  # 1024 x 2048 images
        h, w = 1024, 2048
    else:  # ADE20K / VOC: papers count at 512 x 512
        return 512, 512
    scale = min(long_side / max(h, w), short_side / min(h, w))
    return int(h * scale + 0.5), int(w * scale + 0.5)


def measure(path, flops=True):
    import torch
    from mmengine.config import Config

    from mmedge.utils.benchmark import (build_model_from_config, count_macs,
                                        count_params, macs_without_attention)
    cfg = Config.fromfile(path)
    wrapped, model = build_model_from_config(path)
    row = dict(params=count_params(model) / 1e6, size=test_size(cfg))
    if flops:
        h, w = row['size']
        with torch.no_grad():
            macs, counter = count_macs(wrapped, torch.randn(1, 3, h, w))
        row.update(gflops=macs / 1e9, counter=counter)
        if counter == 'fvcore':
            row['gflops_no_attn'] = macs_without_attention(
                wrapped, torch.randn(1, 3, h, w)) / 1e9
    return row


def _fmt(v, digits=1):
    return '-' if v is None else f'{v:.{digits}f}'


def _diff(ours, paper):
    if ours is None or paper is None:
        return '-'
    return f'{100. * (ours - paper) / paper:+.0f}%'


def table(rows, command):
    lines = [
        '# Segmentation model zoo', '',
        'Params and FLOPs of every segmentation config, next to the numbers of the '
        "paper it reproduces. Params: the whole segmentor, auxiliary head included "
        '(as EMO counts them). FLOPs: fvcore MACs (1 per multiply-add, norms '
        'included) of backbone + neck + decode head on one test image of the '
        'size shown (ADE20K / VOC: 512x512 as the papers count; Cityscapes: the '
        'whole image after the test resize), auxiliary head excluded (as mmseg\'s '
        'get_flops). mIoU: the paper\'s (single-scale); we have not trained these '
        'configs. Regenerate with:', '', '```', command, '```', '',
        'The second FLOPs column leaves out the attention products (matmul / einsum / '
        'scaled-dot-product attention), which mmcv\'s module-hook counter (mmseg 0.x '
        '`get_flops`, used by the EMO authors) does not count.', '',
        '| config | size | params (M) | paper params (M) | FLOPs (G) | FLOPs w/o '
        'attention (G) | paper FLOPs (G) | paper mIoU | source |',
        '|---|---|---:|---:|---:|---:|---:|---:|---|'
    ]
    notes = []
    for stem, row in rows:
        src, p_params, p_flops, p_miou = paper(stem)
        h, w = row['size']
        flops = row.get('gflops')
        no_attn = row.get('gflops_no_attn')
        lines.append(
            f'| `{stem}` | {h}x{w} | {row["params"]:.2f} '
            f'({_diff(row["params"], p_params)}) | {_fmt(p_params)} | '
            f'{_fmt(flops, 2)} ({_diff(flops, p_flops)}) | '
            f'{_fmt(no_attn, 2)} ({_diff(no_attn, p_flops)}) | {_fmt(p_flops)} | '
            f'{_fmt(p_miou)} | {src} |')
        if stem in NOTES:
            notes.append(f'* `{stem}`: {NOTES[stem]}')
    lines += [
        '', 'Configs without paper numbers are extra pairings (Cityscapes '
        'DeepLabv3 / PSPNet / Semantic FPN, the EfficientViT-Seg head on the '
        'released B1 / B2 backbones); RepNeXt gives only mIoU.', ''
    ]
    if notes:
        lines += ['Differences over 5 %:', ''] + notes + ['']
    lines += ['## Recipes', ''] + RECIPES + ['']
    return '\n'.join(lines)


def main(argv=None):
    from mmedge.utils.benchmark import zoo_table_main
    return zoo_table_main(argv, __doc__.splitlines()[0], seg_configs, measure, table,
                          'tools/analysis_tools/seg_zoo_table.py', 'docs/model_zoo_seg.md')


if __name__ == '__main__':
    main()
