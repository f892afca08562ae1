# SSDLite 320x320 + EdgeNeXt-S on Pascal VOC (train: VOC2007 + VOC2012 trainval, test: VOC2007
# test, 11-point VOC mAP at IoU 0.5). Not a paper pairing (the paper reports COCO only): the
# model and optimiser of ssdlite_edgenext_s_coco.py with 20 classes, trained for mmdet's SSD300
# VOC schedule length: 24 epochs x RepeatDataset(times=10) = 240 VOC07+12 epochs, cosine.
_base_ = './ssdlite_edgenext_s_coco.py'

dataset_type = 'VOCDataset'
data_root = 'data/VOCdevkit/'

model = dict(bbox_head=dict(num_classes=20))

voc_train = dict(
    type=dataset_type,
    data_root=data_root,
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline={{_base_.train_pipeline}})
train_dataloader = dict(
    dataset=dict(
        times=10,
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

max_epochs = 24
train_cfg = dict(max_epochs=max_epochs, val_interval=4)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=500),
    dict(
        type='CosineAnnealingLR',
        begin=0,
        T_max=max_epochs,
        end=max_epochs,
        by_epoch=True,
        eta_min=1e-6)
]
