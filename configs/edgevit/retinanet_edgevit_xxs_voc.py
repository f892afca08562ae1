# RetinaNet + EdgeViT-XXS on Pascal VOC (train: VOC2007 + VOC2012 trainval, test: VOC2007
# test, 11-point VOC mAP at IoU 0.5). Not a paper pairing (the paper reports COCO only): the
# model and optimiser of retinanet_edgevit_xxs_coco.py with 20 classes, on mmdet's RetinaNet
# VOC recipe (1000x600, RepeatDataset(times=3) x 4 epochs = 12 VOC07+12 epochs, lr x0.1 after
# epoch 3).
_base_ = ['./retinanet_edgevit_xxs_coco.py', '../_base_/datasets/det_voc0712.py']

dataset_type = 'VOCDataset'
data_root = _base_.voc_data_root

model = dict(bbox_head=dict(num_classes=20))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(1000, 600), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1000, 600), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
voc_train = dict(
    type=dataset_type,
    data_root=data_root,
    filter_cfg=dict(filter_empty_gt=True, min_size=32, bbox_min_size=32),
    pipeline=train_pipeline)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=3,
        dataset=dict(
            _base_.voc0712_trainval,
            datasets=[dict(d, **voc_train) for d in _base_.voc0712_trainval.datasets])))
val_dataloader = dict(
    dataset=dict(_base_.voc07_test, _delete_=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_base_.voc_evaluator, _delete_=True)
test_evaluator = val_evaluator

max_epochs = 4
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[3],
        gamma=0.1)
]
