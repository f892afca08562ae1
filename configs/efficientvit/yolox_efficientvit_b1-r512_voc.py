# YOLOX + EfficientViT-B1 at 512x512 on Pascal VOC (train: VOC2007 + VOC2012 trainval, test:
# VOC2007 test, 11-point VOC mAP at IoU 0.5). Not a paper pairing (the paper reports COCO
# only): the detector and recipe of yolox_efficientvit_b1-r512_coco.py (EfficientViT-Det,
# 300 epochs) with 20 classes.
_base_ = ['./yolox_efficientvit_b1-r512_coco.py', '../_base_/datasets/det_voc0712.py']

dataset_type = 'VOCDataset'
data_root = _base_.voc_data_root

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
            _base_.voc0712_trainval,
            _delete_=True,
            datasets=[dict(d, **voc_train) for d in _base_.voc0712_trainval.datasets])))
val_dataloader = dict(
    dataset=dict(_base_.voc07_test, _delete_=True, pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_base_.voc_evaluator, _delete_=True)
test_evaluator = val_evaluator
