"""Probe: each hostile checkpoint through each load path, one fresh interpreter per case.

    python tests/test_utils/probe_checkpoint_attacks.py [--repo DIR] [--paths ...] [--attacks ...]

``--repo`` is the mmedge checkout to probe (default: this one), so the same probe runs against an
older revision (``git archive REV | tar -x -C DIR``).  Each case prints one line: ``SIGSEGV`` /
``crash (rc N)``, ``refused: <first line of the error>``, or ``loaded`` plus any damage seen
afterwards (the HistoryBuffer class table changed, ``statistics('mean')`` wrong, memory read
past an array, ...).  The tests in ``test_restricted_loading.py`` assert the refusals; this
script records what happens before and after for the report.
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
import tempfile

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))

# the load paths; each reads the file named by $CKPT in a child interpreter
LOADERS = {
    'torch.load':
    'import mmedge, torch\nobj = torch.load(CKPT)',
    'safe_load':
    'from mmedge.utils.checkpoint import safe_load\nobj = safe_load(CKPT)',
    'load_checkpoint':
    'import mmedge, torch.nn as nn\nfrom mmengine.runner import load_checkpoint\n'
    'obj = load_checkpoint(nn.Linear(1, 1), CKPT)',
    'Pretrained':
    'import mmedge.models\nfrom mmedge.registry import MODELS\n'
    'm = MODELS.build(dict(type="mmedge.RepNeXt", arch="m0", '
    'init_cfg=dict(type="Pretrained", checkpoint=CKPT)))\nm.init_weights()\nobj = None',
}
CHECK = r'''
import copy
from mmengine.logging import HistoryBuffer
def touch(o, depth=0):  # what any user of the loaded data does: look at it, copy it
    if depth > 6: return
    repr(o); copy.deepcopy(o)
    for v in (o.values() if isinstance(o, dict) else o if isinstance(o, (list, tuple)) else ()):
        touch(v, depth + 1)
    if hasattr(o, 'dtype') and getattr(o.dtype, 'names', None):
        print('READ', [o[n].tolist() for n in o.dtype.names][:1], flush=True)
touch(obj)
table = HistoryBuffer._statistics_methods
bad = sorted(k for k, v in table.items() if getattr(v, '__name__', k) != k)
extra = sorted(set(table) - {'min', 'max', 'current', 'mean'})
mean = HistoryBuffer([1., 3.], [1, 1]).statistics('mean')
print('EFFECT', 'table entries rewritten:' if bad else '', bad or '',
      'table entries added:' if extra else '', extra or '',
      'mean([1,3]) =', float(mean), flush=True)
'''


def run_case(repo, loader, attack, fmt, tmp):
    sys.path.insert(0, HERE)
    import hostile_checkpoints as hc
    path = osp.join(tmp, f'{attack}_{fmt}.pth')
    hc.write_attack(path, attack, fmt)
    code = f'CKPT = {path!r}\n' + LOADERS[loader] + '\n' + CHECK
    env = dict(os.environ, PYTHONPATH=repo, PYTHONFAULTHANDLER='')
    proc = subprocess.run([sys.executable, '-c', code], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    if proc.returncode < 0:
        return 'SIGSEGV' if proc.returncode == -11 else f'crash (signal {-proc.returncode})'
    lines = [ln for ln in out.splitlines() if ln.strip()]
    if proc.returncode != 0:
        err = next((ln for ln in reversed(lines) if 'Error' in ln or 'Refused' in ln),
                   lines[-1] if lines else '')
        return 'refused: ' + err.strip()[:160]
    effect = [ln for ln in lines if ln.startswith(('EFFECT', 'READ'))]
    return 'loaded; ' + ' / '.join(e.split(' ', 1)[1].strip() for e in effect)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repo', default=REPO)
    parser.add_argument('--paths', nargs='+', default=list(LOADERS))
    parser.add_argument('--attacks', nargs='+', default=None)
    parser.add_argument('--formats', nargs='+', default=['zip', 'legacy'])
    args = parser.parse_args()
    sys.path.insert(0, HERE)
    import hostile_checkpoints as hc
    attacks = args.attacks or list(hc.ATTACKS)
    with tempfile.TemporaryDirectory() as tmp:
        for loader in args.paths:
            for attack in attacks:
                for fmt in args.formats:
                    print(f'{loader} | {attack} | {fmt} | '
                          f'{run_case(args.repo, loader, attack, fmt, tmp)}', flush=True)


if __name__ == '__main__':
    main()
