# Pascal VOC 07+12 for mmdet (data/VOCdevkit/): train on VOC2007 + VOC2012 trainval, test on
# VOC2007 test with the 11-point VOC mAP at IoU 0.5. Variables only, because a VOC config also
# inherits its COCO config, which defines the dataloaders (two bases may not define the same
# key); the config adds its pipeline and filter to each split:
#     train_dataloader = dict(dataset=dict(dataset=dict(
#         _base_.voc0712_trainval, _delete_=True,
#         datasets=[dict(d, pipeline=...) for d in _base_.voc0712_trainval.datasets])))
#     val_dataloader = dict(dataset=dict(_base_.voc07_test, _delete_=True, pipeline=...))
voc_data_root = 'data/VOCdevkit/'
voc0712_trainval = dict(
    type='ConcatDataset',
    # VOCDataset puts its year in the metainfo, which ConcatDataset must ignore
    ignore_keys=['dataset_type'],
    datasets=[
        dict(
            type='VOCDataset',
            data_root=voc_data_root,
            ann_file=f'VOC{year}/ImageSets/Main/trainval.txt',
            data_prefix=dict(sub_data_root=f'VOC{year}/')) for year in (2007, 2012)
    ])
voc07_test = dict(
    type='VOCDataset',
    data_root=voc_data_root,
    ann_file='VOC2007/ImageSets/Main/test.txt',
    data_prefix=dict(sub_data_root='VOC2007/'),
    test_mode=True)
voc_evaluator = dict(type='VOCMetric', metric='mAP', eval_mode='11points')
