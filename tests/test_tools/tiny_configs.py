"""Tiny det / seg configs (the toy configs' models, small generated data, small images) for tests
that run tools/train.py several times."""
import os
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs')
TOY = osp.join(CONFIGS, 'toy')

DET = '''_base_ = {base!r}
data_root = {root!r}
toy_data = dict(format='coco', root=data_root, num_train={n}, num_val=2, img_size=(96, 96))
# the toy config's SSD pipelines at 128x128
train_pipeline = [
    dict(t, scale=(128, 128)) if t.type == 'Resize' else t for t in _base_.train_pipeline
]
test_pipeline = [
    dict(t, scale=(128, 128)) if t.type == 'Resize' else t for t in _base_.test_pipeline
]
loader = dict(num_workers={workers}, persistent_workers={persistent})
train_dataloader = dict(
    batch_size=2, **loader,
    dataset=dict(dataset=dict(data_root=data_root, pipeline=train_pipeline)))
val_dataloader = dict(batch_size=2, **loader, dataset=dict(data_root=data_root,
                                                           pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs={epochs}, val_interval=1)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(by_epoch=False, interval={ckpt}, max_keep_ckpts=5))
randomness = dict(seed=0, deterministic=True)
visualizer = dict(name='vis_{tag}')
'''

SEG = '''_base_ = {base!r}
toy_root = {root!r}
toy_data = dict(format='voc', root=toy_root, num_train={n}, num_val=2, img_size=(64, 64))
data_root = toy_root + 'VOCdevkit/VOC2012/'
crop_size = (48, 48)
# the toy config's pipelines at 64x64 with 48x48 crops
train_pipeline = [
    dict(t, scale=(64, 64), ratio_range=(0.75, 1.5)) if t.type == 'RandomResize' else
    dict(t, crop_size=crop_size) if t.type == 'RandomCrop' else t
    for t in _base_.train_pipeline
]
test_pipeline = [
    dict(t, scale=(64, 64)) if t.type == 'Resize' else t for t in _base_.test_pipeline
]
loader = dict(num_workers={workers}, persistent_workers={persistent})
train_dataloader = dict(batch_size=2, **loader,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(**loader, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
model = dict(data_preprocessor=dict(size=crop_size))
train_cfg = dict(max_iters={iters}, val_interval={val_interval})
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=3),
                   dict(type='PolyLR', power=0.9, begin=3, end={iters}, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval={ckpt}, max_keep_ckpts=5))
randomness = dict(seed=0, deterministic=True)
visualizer = dict(name='vis_{tag}')
'''


def write_det(tmp_path, data_root, *, n=6, epochs=2, ckpt=4, workers=0, tag='det'):
    path = osp.join(str(tmp_path), f'tiny_det_{tag}.py')
    with open(path, 'w') as f:
        f.write(DET.format(base=osp.join(TOY, 'toy_ssdlite_edgenext_xxs_coco.py'),
                           root=str(data_root).rstrip('/') + '/', n=n, epochs=epochs,
                           ckpt=ckpt, workers=workers, persistent=workers > 0, tag=tag))
    return path


def write_seg(tmp_path, data_root, *, n=6, iters=6, ckpt=4, val_interval=3, workers=0,
              tag='seg'):
    path = osp.join(str(tmp_path), f'tiny_seg_{tag}.py')
    with open(path, 'w') as f:
        f.write(SEG.format(base=osp.join(TOY, 'toy_deeplabv3_emo_1m_voc.py'),
                           root=str(data_root).rstrip('/') + '/', n=n, iters=iters,
                           ckpt=ckpt, val_interval=val_interval, workers=workers,
                           persistent=workers > 0, tag=tag))
    return path

CLS = '''_base_ = {base!r}
data = dict(type='CustomDataset', data_root={root!r}, with_label=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32, backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(_delete_=True, pipeline=train_pipeline, **data))
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      dataset=dict(_delete_=True, pipeline=test_pipeline, **data))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
model = dict(head=dict(num_classes=2), train_cfg=None)
train_cfg = dict(by_epoch=True, max_epochs={epochs}, val_interval=1)
param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=2)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
randomness = dict(seed=0, deterministic=True)
visualizer = dict(name='vis_{tag}')
'''


def write_cls(tmp_path, data_root, *, per_class=2, epochs=1, tag='cls',
              base=osp.join('edgenext', 'cls_edgenext_xxs_in1k.py')):
    """An mmpretrain CustomDataset of two classes (folders of 32x32 JPEGs) + the model of
    ``configs/<base>`` (EdgeNeXt-XXS)."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    for c in ('a', 'b'):
        os.makedirs(osp.join(str(data_root), c), exist_ok=True)
        for i in range(per_class):
            img = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(img).save(osp.join(str(data_root), c, f'{i}.jpg'))
    path = osp.join(str(tmp_path), f'tiny_cls_{tag}.py')
    with open(path, 'w') as f:
        f.write(CLS.format(base=osp.join(CONFIGS, base),
                           root=str(data_root), epochs=epochs, tag=tag))
    return path
