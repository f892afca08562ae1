# Mask R-CNN + RepNeXt-M3 on Cityscapes instances (8 classes; box / mask AP on val). Not a
# paper pairing: the model and optimiser of maskrcnn_repnext_m3_coco.py (AdamW lr 2e-4,
# wd 0.05, batch 8) on mmdet's Cityscapes Mask R-CNN recipe: 2048x(800-1024) multi-scale
# training, 2048x1024 test, SmoothL1 box loss, 8 GPUs x 1 image, RepeatDataset(times=8) x
# 8 epochs = 64 Cityscapes epochs, lr x0.1 after epoch 7. mmdet initialises its R-50 model from
# a COCO-trained one; to do the same, pass a checkpoint of maskrcnn_repnext_m3_coco.py with
# --cfg-options load_from=PATH. Evaluation needs cityscapesscripts (also needed to convert
# the annotations with mmdet's tools/dataset_converters/cityscapes.py).
_base_ = './maskrcnn_repnext_m3_coco.py'

dataset_type = 'CityscapesDataset'
data_root = 'data/cityscapes/'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            num_classes=8,
            loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0)),
        mask_head=dict(num_classes=8)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomResize',
        scale=[(2048, 800), (2048, 1024)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=1,
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=8,
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            ann_file='annotations/instancesonly_filtered_gtFine_train.json',
            data_prefix=dict(img='leftImg8bit/train/'),
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=1,
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instancesonly_filtered_gtFine_val.json',
        data_prefix=dict(img='leftImg8bit/val/'),
        test_mode=True,
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(
        type='CocoMetric',
        ann_file=data_root +
        'annotations/instancesonly_filtered_gtFine_val.json',
        metric=['bbox', 'segm']),
    dict(
        type='CityScapesMetric',
        seg_prefix=data_root + 'gtFine/val',
        outfile_prefix='./work_dirs/cityscapes_metric/instance')
]
test_evaluator = val_evaluator

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[7],
        gamma=0.1)
]
# 8 GPUs x 1 image
auto_scale_lr = dict(base_batch_size=8)
