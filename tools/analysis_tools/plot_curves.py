"""Plot the loss and metric curves of a run to a PNG.

    python tools/analysis_tools/plot_curves.py work_dirs/toy_ssdlite_edgenext_s_coco [--out curves.png]

Reads mmengine's ``<work_dir>/<timestamp>/vis_data/scalars.json`` (the newest run, or the file given);
plots every ``loss*`` key against the iteration and every metric (``coco/*``, ``mIoU``, ``pascal_voc/*``,
``accuracy/*`` ...) against the epoch / iteration it was computed at.
"""
import argparse
import glob
import json
import os.path as osp

METRIC_KEYS = ('coco/bbox_mAP', 'coco/segm_mAP', 'pascal_voc/mAP', 'mIoU',
               'aAcc', 'accuracy/top1')


def find_scalars(path):
    if osp.isfile(path):
        return path
    runs = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not runs:
        raise FileNotFoundError(
            f'no <timestamp>/vis_data/scalars.json under {path!r}: is it a '
            f'work dir of tools/train.py?')
    return runs[-1]


def load_scalars(path):
    train, val = [], []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            (train if any(k.startswith('loss') for k in rec) else val).append(rec)
    return train, val


def plot(path, out=None):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    scalars = find_scalars(path)
    train, val = load_scalars(scalars)
    loss_keys = sorted({k for r in train for k in r if k.startswith('loss')})
    metric_keys = [k for k in METRIC_KEYS if any(k in r for r in val)]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for k in loss_keys:
        pts = [(r['step'], r[k]) for r in train if k in r]
        axes[0].plot(*zip(*pts), label=k)
    axes[0].set_xlabel('iteration')
    axes[0].set_title('training loss')
    axes[0].legend(fontsize=8)
    for k in metric_keys:
        pts = [(r['step'], r[k]) for r in val if k in r]
        axes[1].plot(*zip(*pts), marker='o', label=k)
    axes[1].set_xlabel('epoch / iteration of evaluation')
    axes[1].set_title('validation metric')
    if metric_keys:
        axes[1].legend(fontsize=8)
    fig.tight_layout()
    out = out or osp.join(osp.dirname(osp.dirname(scalars)), 'curves.png')
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out, loss_keys, metric_keys


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('work_dir', help='a work dir, or a scalars.json file')
    p.add_argument('--out', help='PNG path (default: next to the run log)')
    args = p.parse_args(argv)
    out, losses, metrics = plot(args.work_dir, args.out)
    print(f'plotted {losses + metrics} to {out}')
    return out


if __name__ == '__main__':
    main()
