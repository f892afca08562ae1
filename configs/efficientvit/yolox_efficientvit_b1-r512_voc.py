# YOLOX + EfficientViT-B1 at 512x512 on Pascal VOC (train: VOC2007 + VOC2012 trainval, test:
# VOC2007 test, 11-point VOC mAP at IoU 0.5). Not a paper pairing (the paper reports COCO
# only): the detector and recipe of yolox_efficientvit_b1-r512_coco.py (EfficientViT-Det,
# 300 epochs) with 20 classes.
_base_ = './yolox_efficientvit_b1-r512_coco.py'

dataset_type = 'VOCDataset'
data_root = 'data/VOCdevkit/'

model = dict(bbox_head=dict(num_classes=20))

voc_train = dict(
    type=dataset_type,
    data_root=data_root,
    filter_cfg=dict(filter_empty_gt=False, min_size=32),
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True)
    ])
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            _delete_=True,
            type='ConcatDataset',
            # VOCDataset puts its year in the metainfo, which ConcatDataset must ignore
            ignore_keys=['dataset_type'],
            datasets=[
                dict(
                    ann_file='VOC2007/ImageSets/Main/trainval.txt',
                    data_prefix=dict(sub_data_root='VOC2007/'),
                    **voc_train),
                dict(
                    ann_file='VOC2012/ImageSets/Main/trainval.txt',
                    data_prefix=dict(sub_data_root='VOC2012/'),
                    **voc_train)
            ])))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        ann_file='VOC2007/ImageSets/Main/test.txt',
        data_prefix=dict(sub_data_root='VOC2007/'),
        test_mode=True,
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True, type='VOCMetric', metric='mAP', eval_mode='11points')
test_evaluator = val_evaluator
