# RepNeXt-M0 in the fused (inference) layout. It loads checkpoints written by
# tools/model_converters/reparameterize.py from a cls_repnext_m0_in1k.py model,
# and the authors' fused files converted with
# tools/model_converters/convert_official.py repnext SRC DST --keep-head.
_base_ = ['./cls_repnext_m0_in1k.py']

model = dict(backbone=dict(deploy=True), head=dict(deploy=True))
