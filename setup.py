import os
import os.path as osp
import shutil
import sys
import warnings

from setuptools import find_packages, setup

# What `mim train / test / search mmedge` and `_base_ = 'mmedge::folder/config.py'` read from the
# installed package: <site-packages>/mmedge/.mim/{configs,tools,model-index.yml}.
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def get_version():
    scope = {}
    with open('mmedge/version.py') as f:
        exec(compile(f.read(), 'mmedge/version.py', 'exec'), scope)
    return scope['__version__']


def add_mim_extension():
    """Put configs, tools and model-index.yml under mmedge/.mim, as mmdet / mmseg do.

    Editable installs (``setup.py develop``, which ``pip install -e .`` runs) get relative
    symbolic links to the checkout, so edits show at once; wheels and sdists get copies
    (``MANIFEST.in`` ships them). Other commands (egg_info, ...) leave .mim as it is.
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv:
        mode = 'copy'
    else:
        return
    repo = osp.dirname(osp.abspath(__file__))
    mim = osp.join(repo, 'mmedge', '.mim')
    os.makedirs(mim, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(repo, name), osp.join(mim, name)
        if not osp.exists(src):
            raise FileNotFoundError(f'{src} is missing: mmedge/.mim needs it')
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            try:
                os.symlink(osp.relpath(src, mim), dst)
                continue
            except OSError:  # e.g. Windows without the privilege: copy instead
                warnings.warn(f'could not link {dst} to {src}; copying it')
        ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
        if osp.isdir(src):
            shutil.copytree(src, dst, ignore=ignore)
        else:
            shutil.copyfile(src, dst)


add_mim_extension()

with open('README.md', encoding='utf-8') as f:
    long_description = f.read()

setup(
    name='mmedge',
    version=get_version(),
    description='Efficient mobile backbones (EdgeNeXt, EdgeViT, EMO, '
    'EfficientViT, RepNeXt) for OpenMMLab detection and segmentation',
    long_description=long_description,
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['mmedge', 'mmedge.*']),
    include_package_data=True,  # mmedge/.mim (MANIFEST.in)
    # What mmedge itself imports. torch and mmcv are not pinned here so users
    # can bring their own builds (GPU); tools/setup_env.sh pins the CPU stack.
    install_requires=[
        'torch>=1.13',
        'numpy',
        'mmengine>=0.10.0,<1.0.0',
        'mmcv>=2.0.0rc4,<2.2.0',
    ],
    extras_require={
        'det': ['mmdet>=3.0.0,<3.4.0', 'pycocotools'],
        'seg': ['mmsegmentation>=1.0.0,<1.3.0', 'ftfy', 'regex'],
        'cls': ['mmpretrain>=1.0.0,<1.3.0'],
        'deploy': ['onnx', 'onnxruntime', 'fvcore'],
        'tests': ['pytest>=7', 'timm>=1.0', 'fvcore', 'onnx', 'onnxruntime'],
    },
    zip_safe=False)
