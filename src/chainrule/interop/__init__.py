"""Other libraries' formats: PyTorch state dicts without PyTorch
(:mod:`~chainrule.interop.pytorch`), ONNX export (:mod:`~chainrule.interop.onnx`, needs the
``onnx`` extra) and scikit-learn estimators (:mod:`~chainrule.interop.sklearn`, needs the
``sklearn`` extra). The last two are imported only when named."""

from chainrule.interop.pytorch import load_torch_weights, read_state_dict, save_torch_weights

__all__ = ["load_torch_weights", "read_state_dict", "save_torch_weights"]
