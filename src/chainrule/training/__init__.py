"""Training: ``fit``, ``evaluate``, ``predict``, the ``History`` they record, callbacks and
checkpoints."""

from chainrule.training.callbacks import Callback, EarlyStopping, LambdaCallback
from chainrule.training.checkpoint import checkpoint_path
from chainrule.training.history import History
from chainrule.training.loop import TrainingError, evaluate, fit, predict

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "TrainingError",
    "checkpoint_path",
    "evaluate",
    "fit",
    "predict",
]
