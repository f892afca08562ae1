from setuptools import find_packages, setup


def get_version():
    scope = {}
    with open('mmedge/version.py') as f:
        exec(compile(f.read(), 'mmedge/version.py', 'exec'), scope)
    return scope['__version__']


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
    include_package_data=True,
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
