"""Params and FLOPs of every detection config next to the papers' numbers (docs/model_zoo_det.md).

    python tools/analysis_tools/model_zoo_table.py [--out docs/model_zoo_det.md] \
        [--configs configs/emo/ssdlite_emo_5m_coco.py ...] [--no-flops]

Params: every parameter of the built detector (what the papers' "#Params" count).
FLOPs: fvcore MACs (1 per multiply-add, norms included; :func:`mmedge.utils.benchmark.count_macs`)
of mmdet's tensor-mode forward (backbone + neck + heads, no post-processing) on one image of the
config's input size: SSDLite / YOLOX the square test size; RetinaNet / Mask R-CNN on COCO
800x1280 (the ``1280x800`` of mmdet's ``get_flops``, which the EMO README's RetinaNet FLOPs use),
VOC 600x1000, Cityscapes 1024x2048. Mask R-CNN's RoI heads run on the RPN's proposals of that
image (up to 1000; 100 for the mask head), as in mmdet's ``get_flops``. A second count leaves out
the attention products (matmul / einsum / scaled-dot-product attention), which mmcv's
module-hook counter (mmdet 2.x ``get_flops``, used by the EMO authors) never sees.
"""
import functools
import glob
import os.path as osp
import sys

import torch
import torch.nn as nn

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

FRAMEWORKS = ('ssdlite', 'retinanet', 'maskrcnn', 'yolox')


@functools.lru_cache(maxsize=None)
def _papers():
    from mmedge.utils.mim import paper_table
    return paper_table()


def paper(stem):
    """The paper's numbers of a config from its metafile: (source, params M, FLOPs G, AP text)."""
    p = _papers().get(stem)
    if p is None:
        return '-', None, None, None
    ap = ', '.join(f'{k.split()[0]} {v}' for k, v in p['metrics'].items()) or None
    return p['source'], p['params'], p['flops'], ap


# Why a config is more than 5 % off the paper (the numbers are in the table).
NOTES = {
    'ssdlite_edgenext_s_coco':
    'params match. MAdds: the ml-cvnets SSDLite the authors follow projects the '
    'stride-16 / 32 maps (160 -> 512, 304 -> 256 channels, 1x1 conv + BN + ReLU) '
    "before the predictors (6.28M / 2.14G by our count of that head); mmdet's SSDNeck "
    'feeds them to the predictors directly (0.3M params and 0.15G fewer).',
    'yolox_efficientvit_base-r512_coco':
    "MACs match. Params: no reading of the paper's text reproduces its counts "
    '(7.9M classifier, 6.5M segmentor, 10.6M detector): the backbone is 2.30M '
    '(EfficientViT paper Sec. 3.2.3 widths), and a YOLOX neck + head within the '
    "paper's 3.2G at 512x512 has under 1M parameters, so MACs are the target "
    '(the neck / head width was chosen on them).',
}
NOTES['yolox_efficientvit_base-r608_coco'] = NOTES[
    'yolox_efficientvit_base-r512_coco']
for _stem in ('ssdlite_emo_2m_coco', 'ssdlite_emo_5m_coco'):
    NOTES[_stem] = (
        'params match. FLOPs: the paper (mmdet 2.x get_flops, mmcv module '
        'hooks) does not count the attention products; without them the count '
        'is within 5 %.')


def det_configs():
    """Every detection config of configs/ (toy configs excluded), sorted."""
    out = []
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))):
        stem = osp.splitext(osp.basename(path))[0]
        if stem.split('_')[0] in FRAMEWORKS:
            out.append(path)
    return out


def input_size(cfg):
    """(H, W) of the image the FLOPs are counted on (see the module docstring)."""
    for t in cfg.test_dataloader.dataset.pipeline:
        if t['type'] == 'Resize':
            w, h = t['scale']
            if not t.get('keep_ratio', False):
                return h, w
            break
    if cfg.model.type == 'YOLOX':  # keep-ratio resize, then padded to a square
        return max(h, w), max(h, w)
    dataset = cfg.test_dataloader.dataset.type
    return {
        'CocoDataset': (800, 1280),
        'VOCDataset': (600, 1000),
        'CityscapesDataset': (1024, 2048),
    }[dataset]


def _flatten(item):
    if isinstance(item, torch.Tensor):
        return [item]
    if isinstance(item, (list, tuple)):
        return [t for i in item for t in _flatten(i)]
    return []


class DetectorForward(nn.Module):
    """``model._forward(x, data_samples)`` (mmdet's tensor mode) as a module of ``x`` alone."""

    def __init__(self, model, size):
        super().__init__()
        from mmdet.structures import DetDataSample
        self.model = model
        h, w = size
        self.samples = [
            DetDataSample(
                metainfo=dict(
                    img_shape=(h, w),
                    ori_shape=(h, w),
                    pad_shape=(h, w),
                    batch_input_shape=(h, w),
                    scale_factor=(1., 1.)))
        ]

    def forward(self, x):
        return tuple(_flatten(self.model._forward(x, self.samples)))


def measure(path, flops=True):
    from mmengine.config import Config

    from mmedge.utils.benchmark import (build_model_from_config, count_macs,
                                        count_params, macs_without_attention)
    cfg = Config.fromfile(path)
    _, model = build_model_from_config(path)
    row = dict(params=count_params(model) / 1e6, size=input_size(cfg))
    if flops:
        torch.manual_seed(0)
        fwd = DetectorForward(model.eval(), row['size'])
        x = torch.randn(1, 3, *row['size'])
        macs, counter = count_macs(fwd, x)
        row.update(gflops=macs / 1e9, counter=counter)
        if counter == 'fvcore':
            row['gflops_no_attn'] = macs_without_attention(fwd, x) / 1e9
    return row


def _fmt(v, digits=1):
    return '-' if v is None else f'{v:.{digits}f}'


def _diff(ours, paper):
    if ours is None or paper is None:
        return ''
    return f' ({100. * (ours - paper) / paper:+.0f}%)'


def table(rows, command):
    lines = [
        '# Detection model zoo', '',
        'Params and FLOPs of every detection config, next to the numbers of the '
        'paper it reproduces and the COCO val2017 AP the paper reports, i.e. what '
        'training the config on COCO should give (we have not trained them). '
        'Params: the whole detector. FLOPs: fvcore MACs (1 per multiply-add, norms '
        "included) of mmdet's tensor-mode forward (backbone + neck + heads) on one "
        'image of the size shown: SSDLite / YOLOX their square input, RetinaNet / '
        "Mask R-CNN 800x1280 on COCO (mmdet `get_flops`' default, used by the EMO "
        'README), 600x1000 on VOC, 1024x2048 on Cityscapes; Mask R-CNN counts its '
        'RoI heads on the RPN proposals of that image. The second FLOPs column '
        'leaves out the attention products (matmul / einsum / scaled-dot-product '
        "attention), which mmcv's module-hook counter (mmdet 2.x `get_flops`, used "
        'by the EMO authors) does not count. Regenerate with:', '', '```',
        command, '```', '',
        '| config | input | params (M) | paper params (M) | FLOPs (G) | FLOPs '
        'w/o attention (G) | paper FLOPs (G) | paper AP | source |',
        '|---|---|---:|---:|---:|---:|---:|---|---|'
    ]
    notes = []
    for stem, row in rows:
        src, p_params, p_flops, p_ap = paper(stem)
        h, w = row['size']
        flops = row.get('gflops')
        no_attn = row.get('gflops_no_attn')
        lines.append(
            f'| `{stem}` | {h}x{w} | {row["params"]:.2f}'
            f'{_diff(row["params"], p_params)} | {_fmt(p_params)} | '
            f'{_fmt(flops, 2)}{_diff(flops, p_flops)} | '
            f'{_fmt(no_attn, 2)}{_diff(no_attn, p_flops)} | {_fmt(p_flops)} | '
            f'{p_ap or "-"} | {src} |')
        if stem in NOTES:
            notes.append(f'* `{stem}`: {NOTES[stem]}')
    lines += [
        '', 'Configs without paper numbers are extra pairings: VOC (VOC07+12 '
        'train, VOC07 test) and Cityscapes configs, and the EfficientViT-Det '
        'detector on the released B1 / B2 backbones. EdgeViT gives no detection '
        'FLOPs; RepNeXt gives neither params nor FLOPs for Mask R-CNN. `toy_*` '
        'configs (generated data) are not listed.', ''
    ]
    if notes:
        lines += ['Differences over 5 %:', ''] + notes + ['']
    return '\n'.join(lines)


def main(argv=None):
    from mmedge.utils.benchmark import zoo_table_main
    return zoo_table_main(argv, __doc__.splitlines()[0], det_configs, measure, table,
                          'tools/analysis_tools/model_zoo_table.py', 'docs/model_zoo_det.md')


if __name__ == '__main__':
    main()
