"""G-Net: arcsine networks in PyTorch (layers, activations, model builders, training, checkpoints).

See :mod:`gnetlab.gnet.layers` for the exact layer definitions and :mod:`gnetlab.ehd` for the binary
(EHD) embedding of a trained G-Net.
"""

from .layers import (ACTIVATIONS, ASU, KERNEL_ACTIVATIONS, KERNELS, RASU, TASU, ArcsineConv1d, ArcsineConv2d,
                     ArcsineDense, NormalizedOutput, ReLU, make_activation)
from .models import GNet, MODELS, PAPER_FLOAT_ACCURACY, build_model, model_names, op_counts
from .train import (TrainResult, ensure_trained, train_and_save, evaluate, load_checkpoint, load_model, model_path,
                    save_checkpoint, spec_data, train, train_from_spec)

__all__ = [
    "ACTIVATIONS", "ASU", "RASU", "TASU", "ReLU", "KERNELS", "KERNEL_ACTIVATIONS", "ArcsineConv1d", "ArcsineConv2d", "ArcsineDense", "NormalizedOutput",
    "make_activation", "GNet", "MODELS", "PAPER_FLOAT_ACCURACY", "build_model", "model_names", "op_counts", "TrainResult",
    "ensure_trained", "evaluate", "load_checkpoint", "load_model", "model_path", "save_checkpoint", "spec_data",
    "train", "train_from_spec",
]
