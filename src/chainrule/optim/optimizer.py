"""``Optimizer``: parameter groups, per-parameter state, and the step loop every optimizer shares.

An optimizer holds ``param_groups``, a list of dicts: each has ``'params'`` (a list of leaf
tensors) and the group's options (``'lr'``, ``'momentum'``, …), which override the optimizer's
defaults. ``state`` maps each parameter (the tensor itself; tensors hash by identity) to a dict of
NumPy buffers of the parameter's shape and dtype, plus a step count where the rule needs one.

Subclasses write :meth:`Optimizer._update`, which changes ``param`` in place from ``grad``, and
:meth:`Optimizer._check_options`, which validates a group's options. Updates never allocate after
a parameter's first step: state buffers are created once, and the temporaries an update needs
come from a pool of scratch arrays shared by all parameters of the same shape and dtype
(parameters are updated one at a time, so they can share).

A rule may also write a grouped update (SGD and Adam do; ``foreach=None`` or True selects it,
``foreach=False`` keeps the loop above): :meth:`Optimizer._update_segment` updates, at once, all
parameters of a group that share a dtype and a :meth:`Optimizer._segment_key`, their state held
in the flat buffers of a :class:`~chainrule.optim.foreach.FlatSegment`. Both forms call the same
functions of arrays, so they give the same bits.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import enable_grad, write_clock
from chainrule.optim.foreach import FlatSegment, Signature, signature

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]
StateDict = dict[str, Any]


class Optimizer:
    """Base class of all optimizers.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The tensors to optimize (floating-point leaves), or parameter groups: dicts with a
        ``'params'`` entry (a tensor or a list of tensors) and any options that should differ
        from ``defaults`` for that group. Extra keys are kept, as in PyTorch.
    defaults : dict
        Every option of the optimizer with its default value.

    Attributes
    ----------
    param_groups : list of dict
    state : dict mapping Tensor to dict
        Per-parameter buffers (ndarrays of the parameter's shape and dtype) and counters.
    defaults : dict
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults: dict[str, Any] = dict(defaults)
        self._check_options(self.defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        # Read by lr schedulers to tell when they are stepped before the optimizer.
        self._step_count = 0
        self._scratch_pool: dict[tuple[tuple[int, ...], str, int], np.ndarray] = {}
        # Per param group (by index): the flat segments of the grouped update, and what they
        # were built for.
        self._segment_cache: dict[int, tuple[Signature, list[FlatSegment]]] = {}

        if isinstance(params, (Tensor, np.ndarray)):
            raise TypeError(
                "params should be an iterable of Tensors or of dicts (parameter groups), but "
                f"got a single {type(params).__name__}; wrap it in a list"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(_SET_ERROR)
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ----- what subclasses provide -------------------------------------------------------------
    #: Per-parameter state entries that are numbers, not arrays of the parameter's shape.
    _scalar_state: tuple[str, ...] = ("step",)
    #: Entries of any shape (e.g. flat vectors over all parameters), loaded as copies unchecked.
    _free_state: tuple[str, ...] = ()

    def _state_kind(self, name: str) -> str:
        if name in self._free_state:
            return "free"
        return "scalar" if name in self._scalar_state else "shaped"

    def _note_write(self, param: Tensor) -> None:
        """Count an in-place write to ``param`` made outside :meth:`step`'s loop."""
        param._version += 1
        write_clock.count += 1

    def _check_options(self, options: dict[str, Any]) -> None:
        """Raise ``ValueError``/``TypeError`` if an option value is out of range."""

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Update ``param`` in place from ``grad`` (never modified), using and updating
        ``state``."""
        raise NotImplementedError

    # ----- what rules with a grouped ("foreach") update provide --------------------------------
    def _uses_segments(self, group: dict[str, Any]) -> bool:
        """Whether ``group`` is updated through flat segments (:meth:`_update_segment`) rather
        than parameter by parameter; rules without a grouped update say False."""
        return False

    def _segment_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The per-parameter state arrays a segment holds flat."""
        return ()

    def _segment_key(self, param: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> Any:
        """Ready ``state`` for a grouped step (creating it on the first) and return the key that
        sorts parameters into segments: those whose keys differ (e.g. Adam's step counts) are
        updated separately."""
        return None

    def _update_segment(
        self, segment: FlatSegment, states: list[dict[str, Any]], group: dict[str, Any], key: Any
    ) -> None:
        """Update every parameter of ``segment`` (their state already bound to its views), as
        :meth:`_update` would one by one; ``key`` is their :meth:`_segment_key`."""
        raise NotImplementedError

    # ----- parameter groups --------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with its own options, to :attr:`param_groups`.

        Missing options take the optimizer's defaults. The dict is copied, not kept.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a param group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a param group needs a 'params' entry (a tensor or list of tensors)")
        index = len(self.param_groups)
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(_SET_ERROR)
        params = list(params)
        for i, p in enumerate(params):
            _check_param(p, f"param group {index}, parameter {i}")
        seen: dict[int, int] = {}
        for i, p in enumerate(params):
            if id(p) in seen:
                raise ValueError(
                    f"param group {index} lists the same tensor twice (parameters {seen[id(p)]} "
                    f"and {i}); each parameter may appear once"
                )
            seen[id(p)] = i
        for j, other in enumerate(self.param_groups):
            if any(id(q) in seen for q in other["params"]):
                raise ValueError(
                    f"some parameters of param group {index} are already in param group {j}; "
                    "a parameter may belong to one group only"
                )
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        try:
            self._check_options(group)
        except (ValueError, TypeError) as err:
            raise type(err)(f"param group {index}: {err}") from None
        self.param_groups.append(group)

    # ----- the step ----------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters: drop them (``None``, the default) or fill them
        with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad._data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; parameters whose ``.grad`` is None are
        skipped: left unchanged, with no step counted.

        ``closure``, if given, re-evaluates the model and returns the loss; it runs first, with
        gradient recording on, and its result is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for index, group in enumerate(self.param_groups):
            if group.get("foreach") is not False and self._uses_segments(group):
                self._step_grouped(index, group)
            else:
                self._step_each(group)
        write_clock.count += 1
        self._step_count += 1
        return loss

    def _step_each(self, group: dict[str, Any]) -> None:
        """The plain form: :meth:`_update` on each parameter in turn (``foreach=False``)."""
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {}
            self._update(p._data, p.grad._data, state, group)
            p._version += 1  # an in-place write, as PyTorch counts it: stale graphs raise

    def _step_grouped(self, index: int, group: dict[str, Any]) -> None:
        """The grouped form: parameters of one dtype and :meth:`_segment_key` are updated
        together by :meth:`_update_segment`, a few whole-buffer ufunc calls instead of ~10 per
        parameter. Gradients of another shape or dtype take :meth:`_update` instead."""
        # Written out flat, without helper calls: this loop runs for every parameter, every step.
        buckets: dict[tuple[np.dtype, Any], list[tuple[Tensor, dict[str, Any], np.ndarray]]] = {}
        all_state, key_of = self.state, self._segment_key
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            state = all_state.get(p)
            if state is None:
                state = all_state[p] = {}
            param, g = p._data, grad._data
            if g.dtype != param.dtype or g.shape != param.shape:
                # The per-parameter update casts and broadcasts as NumPy does; a flat buffer of
                # the parameter's dtype would round the gradient first.
                self._update(param, g, state, group)
                p._version += 1
                continue
            bucket = (param.dtype, key_of(param, state, group))
            entries = buckets.get(bucket)
            if entries is None:
                entries = buckets[bucket] = []
            entries.append((p, state, g))
        if buckets:
            self._update_buckets(index, group, buckets)

    def _update_buckets(
        self,
        index: int,
        group: dict[str, Any],
        buckets: dict[tuple[np.dtype, Any], list[tuple[Tensor, dict[str, Any], np.ndarray]]],
    ) -> None:
        """Bind each bucket of (parameter, state, gradient) to its segment and update it."""
        names = self._segment_state(group)
        layout = [(names, dtype, *zip(*entries)) for (dtype, _), entries in buckets.items()]
        wanted = signature([(n, dtype.str, params) for n, dtype, params, _, _ in layout])
        cached = self._segment_cache.get(index)
        if cached is not None and cached[0] == wanted:
            segments = cached[1]
        else:  # new parameters, shapes or steps: new buffers, which bind copies the state into
            segments = [FlatSegment(list(ps), dtype, names) for _, dtype, ps, _, _ in layout]
            self._segment_cache[index] = (wanted, segments)
        for (_, key), (_, _, params, states, grads), segment in zip(buckets, layout, segments):
            segment.grads = grads
            segment.bind(states)
            self._update_segment(segment, states, group, key)
            for p in params:
                p._version += 1

    def _segment_gradient(
        self, segment: FlatSegment, weight_decay: float, maximize: bool
    ) -> np.ndarray | None:
        """The segment's ``±grad + weight_decay·param`` as one flat buffer, or None when that is
        the gradient itself (which then stays one array per parameter: gathering it would be
        an extra pass over memory)."""
        if weight_decay == 0 and not maximize:
            return None
        views = segment.views("gradient")
        for p, grad, out in zip(segment.params, segment.grads, views):
            decayed_gradient(p._data, grad, weight_decay, maximize, out)
        return segment.flat("gradient")

    def _scratch(self, like: np.ndarray, slot: int, dtype: Any = None) -> np.ndarray:
        """A reusable temporary of ``like``'s shape and dtype (or ``dtype``, e.g. a boolean
        mask); different ``slot``s never alias.

        Its contents are garbage between uses: an update must write before it reads.
        """
        dt = like.dtype if dtype is None else np.dtype(dtype)
        key = (like.shape, dt.str, slot)
        buf = self._scratch_pool.get(key)
        if buf is None:
            buf = self._scratch_pool[key] = np.empty(like.shape, dt)
        return buf

    def _effective_grad(
        self, param: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool
    ) -> np.ndarray:
        """``±grad + weight_decay·param`` (minus when maximizing), in scratch slot 0 if it differs
        from ``grad``; ``grad`` itself is never written."""
        if weight_decay == 0 and not maximize:
            return grad
        return decayed_gradient(param, grad, weight_decay, maximize, self._scratch(param, 0))

    # ----- saving and loading ------------------------------------------------------------------
    def state_dict(self) -> StateDict:
        """The optimizer's state as plain data, PyTorch's layout.

        ``{'state': {index: {name: ndarray copy or number}}, 'param_groups': [options with
        'params' as a list of indices]}``: parameters are numbered in group order, from 0. Nothing
        in it aliases the optimizer, so training on does not change a saved dict.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            saved = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            saved["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(saved)
        state = {
            index[id(p)]: {k: _copy_value(v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Load a :meth:`state_dict`: each group's options, and every parameter's state.

        Parameters are matched by position: the saved groups must have as many groups, each with
        as many parameters, as this optimizer, and every saved array must have its parameter's
        shape. Floating-point arrays are copied into the parameter's dtype. Raises
        ``ValueError`` naming the first mismatch; the optimizer is unchanged when it raises.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("a state dict must be a dict with keys 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups; this optimizer "
                f"has {len(self.param_groups)}"
            )
        by_index: dict[Any, Tensor] = {}
        new_groups = []
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"parameter group {i} of the loaded state dict has {len(saved['params'])} "
                    f"parameters; this optimizer's group {i} has {len(group['params'])}"
                )
            missing = [k for k in self.defaults if k not in saved]
            if missing:
                raise ValueError(
                    f"parameter group {i} of the loaded state dict lacks the option(s) "
                    f"{missing} of {type(self).__name__}: was it saved by another optimizer?"
                )
            new = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            try:
                self._check_options(new)
            except (ValueError, TypeError) as err:
                raise ValueError(f"parameter group {i} of the loaded state dict: {err}") from None
            new["params"] = group["params"]
            new_groups.append(new)
            by_index.update(zip(saved["params"], group["params"]))

        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, saved_state in state_dict["state"].items():
            if key not in by_index:
                raise ValueError(
                    f"loaded state dict has state for parameter {key!r}, which no parameter "
                    "group lists"
                )
            p = by_index[key]
            new_state[p] = {
                k: _load_value(v, p, key, k, self._state_kind(k)) for k, v in saved_state.items()
            }
        self.param_groups[:] = new_groups
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            opts = ", ".join(f"{k}={v!r}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} params, {opts}")
        return "\n".join(lines) + "\n)"


_SET_ERROR = (
    "optimizer parameters must be in an ordered collection (a list); a set's order changes "
    "between runs, and state_dict() numbers parameters by position"
)


def decayed_gradient(
    param: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool, out: np.ndarray
) -> np.ndarray:
    """``±grad + weight_decay·param`` (minus when maximizing), written to ``out`` (param's
    shape) unless it is ``grad`` itself, which is returned unwritten."""
    if weight_decay == 0 and not maximize:
        return grad
    if weight_decay == 0:
        return np.negative(grad, out=out)
    np.multiply(param, weight_decay, out=out)
    return np.subtract(out, grad, out=out) if maximize else np.add(grad, out, out=out)


def _check_param(p: Any, where: str) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(f"optimizer can only optimize Tensors, but {where} is a {type(p).__name__}")
    if p._data.dtype.kind != "f":
        raise TypeError(
            f"optimizer can only optimize floating-point tensors, but {where} is {p.dtype}"
        )
    if not (p.is_leaf or p._retains_grad):
        raise ValueError(
            f"can't optimize a non-leaf tensor ({where} was computed by "
            f"{p.grad_fn.op_name}); optimize the leaf tensors it was computed from"
        )


def _copy_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy_value(v) for v in value]
    return value.copy() if isinstance(value, np.ndarray) else copy.deepcopy(value)


def _load_value(value: Any, param: Tensor, index: Any, name: str, kind: str) -> Any:
    if kind == "free":
        return _copy_value(value)
    if kind == "scalar" and isinstance(value, (np.ndarray, np.generic, numbers.Real)):
        # PyTorch saves counters such as 'step' as 0-d tensors; here they are Python numbers.
        return np.asarray(value).item()
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and param.ndim == 0:
        # A 0-d parameter's buffer converted from a 0-d tensor with .item().
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        return copy.deepcopy(value)
    if value.shape != param.shape:
        raise ValueError(
            f"loaded state '{name}' of parameter {index} has shape {value.shape}; the parameter "
            f"has shape {param.shape}"
        )
    dtype = param.dtype if value.dtype.kind == "f" else value.dtype
    return np.array(value, dtype=dtype, copy=True)


# ----- option checks shared by the optimizers ----------------------------------------------------
def check_number(
    name: str, value: Any, low: float = 0.0, high: float | None = None, closed: bool = False
) -> None:
    """Require a real number with ``low <= value`` and, if ``high`` is given, ``value < high``
    (``value <= high`` when ``closed``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    above = high is not None and not (value <= high if closed else value < high)
    if not low <= value or above:
        bound = f"in [{low}, {high}{']' if closed else ')'}" if high is not None else f">= {low}"
        raise ValueError(f"invalid {name}: {value} (must be {bound})")


def check_flag(name: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def check_common_options(options: dict[str, Any]) -> None:
    """Validate PyTorch's implementation switches that an optimizer's defaults include.

    ``foreach`` (None, False or True) chooses, for optimizers that have one (SGD, Adam, AdamW),
    the grouped update over flat buffers (None, True) or the per-parameter loop (False); the
    two give the same step, bit for bit, and other optimizers always loop.
    ``differentiable``, ``capturable`` and ``fused`` select behaviours chainrule lacks (a step
    recorded by autograd, CUDA-graph capture, fused device kernels), so they must stay off.
    """
    if "foreach" in options and options["foreach"] is not None:
        check_flag("foreach", options["foreach"])
    if options.get("differentiable", False):
        raise ValueError(
            "differentiable=True is not supported: chainrule's optimizer steps are not "
            "recorded by autograd"
        )
    if options.get("capturable", False):
        raise ValueError("capturable=True is not supported: chainrule has no CUDA graphs")
    if options.get("fused"):
        raise ValueError("fused=True is not supported: chainrule has no fused optimizer kernels")


def check_betas(betas: Any) -> None:
    """Require a pair of coefficients, each in [0, 1)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair of floats, got {betas!r}")
    check_number("beta parameter at index 0", betas[0], high=1.0)
    check_number("beta parameter at index 1", betas[1], high=1.0)
