# SSDLite 320x320 + EdgeNeXt-S on Pascal VOC (train: VOC2007 + VOC2012 trainval, test: VOC2007
# test, 11-point VOC mAP at IoU 0.5). Not a paper pairing (the paper reports COCO only): the
# model and optimiser of ssdlite_edgenext_s_coco.py with 20 classes, trained for mmdet's SSD300
# VOC schedule length: 24 epochs x RepeatDataset(times=10) = 240 VOC07+12 epochs, cosine.
_base_ = ['./ssdlite_edgenext_s_coco.py', '../_base_/datasets/det_voc0712.py']

dataset_type = 'VOCDataset'
data_root = _base_.voc_data_root

model = dict(bbox_head=dict(num_classes=20))

# what each VOC07+12 trainval split gets here (the toy VOC config reuses it)
voc_train = dict(
    type=dataset_type,
    data_root=data_root,
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline=_base_.train_pipeline)
train_dataloader = dict(
    dataset=dict(
        times=10,
        dataset=dict(
            _base_.voc0712_trainval,
            _delete_=True,
            datasets=[dict(d, **voc_train) for d in _base_.voc0712_trainval.datasets])))
val_dataloader = dict(
    dataset=dict(_base_.voc07_test, _delete_=True, pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_base_.voc_evaluator, _delete_=True)
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
