"""Training: ``fit``, ``evaluate``, ``predict``, the ``History`` they record, and callbacks."""

from chainrule.training.callbacks import Callback, EarlyStopping, LambdaCallback
from chainrule.training.fit import TrainingError, evaluate, fit, predict
from chainrule.training.history import History

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "TrainingError",
    "evaluate",
    "fit",
    "predict",
]
