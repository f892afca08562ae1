#!/usr/bin/env bash
# Multi-GPU / multi-node training through torchrun, as in mmdet / mmseg:
#   bash tools/dist_train.sh CONFIG GPUS [train.py args...]
# Without CUDA, GPUS is the number of CPU processes: tools/train.py then opens a gloo process group
# and wraps the model in CPU DDP (mmedge.utils.dist.setup_dist); torchrun gives each process
# OMP_NUM_THREADS=1 unless it is set.
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
torchrun --nnodes=$NNODES --node_rank=$NODE_RANK --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS --master_port=$PORT \
    $(dirname "$0")/train.py $CONFIG --launcher pytorch ${@:3}
