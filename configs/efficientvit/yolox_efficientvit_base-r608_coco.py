# EfficientViT-Det-r608: YOLOX + the paper's EfficientViT-Base on COCO 2017 at 608x608.
# Paper (EfficientViT, Table 1): 10.6M params, 4.4G MACs, 42.6 AP / 60.5 AP50 / 45.3 AP75.
# The r512 recipe (yolox_efficientvit_base-r512_coco.py), trained and tested at 608x608.
_base_ = './yolox_efficientvit_base-r512_coco.py'

img_scale = (608, 608)  # width, height
# the r512 pipelines with every 512 replaced by 608
train_pipeline = [
    dict(t, img_scale=img_scale) if t.type == 'MixUp' else
    dict(t, scale=img_scale) if t.type == 'Resize' else t
    for t in _base_.train_pipeline
]
test_pipeline = [
    dict(t, scale=img_scale) if t.type == 'Resize' else t
    for t in _base_.test_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
