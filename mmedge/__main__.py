"""Run a Python script with mmedge imported first:  python -m mmedge SCRIPT [ARGS ...]

mmengine accepts ``_base_ = 'mmedge::folder/config.py'`` only once mmedge has registered itself
(``import mmedge``), and mmdet's / mmseg's / mmpretrain's ``tools/train.py`` parse the config
before they import anything of ours. This runs such a script unchanged, as ``__main__``, after
``import mmedge``; e.g. with mmdet's copy installed in its package::

    python -m mmedge "$(python -c 'import mmdet, os; print(os.path.dirname(mmdet.__file__))')/.mim/tools/train.py" my_config.py
"""
import os.path as osp
import runpy
import sys

import mmedge  # noqa: F401  (registers mmedge:: config paths)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(__doc__)
        return 0 if argv else 2
    script = argv[0]
    if not osp.isfile(script):
        print(f'python -m mmedge: no such script: {script}', file=sys.stderr)
        return 2
    sys.argv = argv
    sys.path.insert(0, osp.dirname(osp.abspath(script)))  # as `python SCRIPT` would
    runpy.run_path(script, run_name='__main__')
    return 0


if __name__ == '__main__':
    sys.exit(main())
