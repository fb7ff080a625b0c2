"""Training: ``fit``, ``evaluate``, ``predict``, the ``History`` they record, callbacks and
checkpoints."""

from chainrule.training.callbacks import Callback, EarlyStopping, LambdaCallback
from chainrule.training.checkpoint import checkpoint_path
from chainrule.training.fit import TrainingError, evaluate, fit, predict
from chainrule.training.history import History

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
