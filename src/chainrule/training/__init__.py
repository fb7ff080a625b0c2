"""Training: ``train_step`` (one step of gradient descent), ``fit``, ``evaluate``, ``predict``,
the ``History`` they record, callbacks, metrics and checkpoints, and ``tune_allocator`` (the
malloc setting ``fit`` makes, for hand-written loops)."""

from chainrule.training.allocator import tune_allocator
from chainrule.training.callbacks import Callback, CallbackList, EarlyStopping, LambdaCallback
from chainrule.training.checkpoint import checkpoint_path
from chainrule.training.evaluation import evaluate, predict
from chainrule.training.history import History
from chainrule.training.loop import fit, train_epoch
from chainrule.training.metrics import MetricAccumulator
from chainrule.training.progress import ProgressLogger
from chainrule.training.step import NonFiniteLossError, TrainingError, train_step
from chainrule.training.trainer import Trainer

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "MetricAccumulator",
    "NonFiniteLossError",
    "ProgressLogger",
    "Trainer",
    "TrainingError",
    "checkpoint_path",
    "evaluate",
    "fit",
    "predict",
    "train_epoch",
    "train_step",
    "tune_allocator",
]
