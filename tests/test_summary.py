"""nn.summary / Module.summary: layers, output shapes, parameter counts, and a model left as it was;
loss modules' repr without a parameter line."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def mlp() -> nn.Sequential:
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def test_summary_lists_each_layer_with_its_output_shape_and_parameter_count():
    assert str(nn.summary(mlp(), (4,))) == (
        "Sequential: input (1, 4) float32 -> output (1, 3)\n"
        "=======================================\n"
        "Layer (type)    Output shape    Param #\n"
        "=======================================\n"
        "0 (Linear)      (1, 8)               40\n"
        "1 (ReLU)        (1, 8)                0\n"
        "2 (Linear)      (1, 3)               27\n"
        "=======================================\n"
        "Total params: 67\n"
        "Trainable params: 67\n"
        "Non-trainable params: 0"
    )


def test_summary_without_an_input_shape_leaves_shapes_out_and_runs_nothing():
    model = mlp()
    model[0].register_forward_hook(lambda *_: pytest.fail("summary() ran a forward pass"))
    s = model.summary()
    assert str(s).splitlines()[:3] == ["Sequential", "=" * 23, "Layer (type)    Param #"]
    assert s.input_shape is None and all(layer.output_shape is None for layer in s.layers)


def test_model_summary_method_is_nn_summary():
    assert str(mlp().summary(4)) == str(nn.summary(mlp(), (4,)))
    assert isinstance(mlp().summary(), nn.ModelSummary)


def test_summary_is_its_own_repr_so_a_notebook_shows_the_table():
    s = mlp().summary((4,))
    assert repr(s) == str(s)


def test_summary_totals_split_trainable_and_frozen_parameters_and_count_shared_ones_once():
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3, bias=False))
    model[1].weight = model[0].weight
    model[0].bias.requires_grad_(False)
    s = model.summary((3,))
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (12, 9, 3)
    assert [layer.params for layer in s.layers] == [12, 0]  # rows add up to the total
    assert "Non-trainable params: 3" in str(s)


def test_summary_counts_buffers_apart_from_parameters():
    s = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4)).summary((2,))
    assert s.total_params == 12 + 8 and s.buffers == 4 + 4 + 1
    assert str(s).endswith("Buffer values (saved, not learned): 9")


def test_summary_indents_nested_modules_and_marks_containers():
    model = nn.Sequential(nn.Linear(4, 8), nn.Sequential(nn.Linear(8, 2), nn.Sigmoid()))
    rows = str(model.summary((4,), batch_size=5)).splitlines()[4:7]
    assert rows == [
        "0 (Linear)         (5, 8)               40",
        "1 (Sequential)     (5, 2)               --",
        "  1.0 (Linear)     (5, 2)               18",
    ]
    assert [layer.depth for layer in model.summary().layers] == [1, 1, 2, 2]


def test_summary_follows_images_through_pooling_and_flatten():
    model = nn.Sequential(nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 4 * 4, 10))
    s = nn.summary(model, (3, 8, 8))
    assert [layer.output_shape for layer in s.layers] == [(1, 3, 4, 4), (1, 48), (1, 10)]
    assert s.input_shape == (1, 3, 8, 8) and s.output_shape == (1, 10)


class Twice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(2, 2)
        self.act = nn.Tanh()

    def forward(self, x):
        h = self.act(self.layer(x))
        return self.act(h), h.sum()


def test_summary_shows_a_layer_called_twice_and_tuple_outputs():
    s = Twice().summary((2,))
    act = s.layers[1]
    assert act.calls == 2 and "(1, 2) x2" in str(s)
    assert s.output_shape == [(1, 2), ()]
    assert "-> output [(1, 2), ()]" in str(s).splitlines()[0]


def test_summary_of_a_single_layer_is_one_row():
    s = nn.Linear(3, 2).summary((3,))
    assert [(layer.name, layer.type, layer.params) for layer in s.layers] == [("", "Linear", 8)]


def test_summary_runs_in_the_model_dtype():
    s = mlp().double().summary((4,))
    assert s.input_dtype == "float64" and "float64" in str(s).splitlines()[0]


def test_summary_leaves_batch_norm_statistics_dropout_and_training_modes_as_they_were():
    generator = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Dropout(0.5, generator=generator), nn.Linear(6, 1)
    )
    model[1].running_mean.numpy()[...] = 0.25
    model[3].eval()  # a mixed-mode model: each module's own flag must come back
    state = {k: v.copy() for k, v in model.state_dict().items()}
    rng_state = generator.bit_generator.state
    model.summary((4,), batch_size=3)
    after = model.state_dict()
    assert all(np.array_equal(after[k], v) for k, v in state.items())
    assert generator.bit_generator.state == rng_state
    assert [m.training for m in model.modules()] == [True, True, True, True, False]
    assert all(not m._forward_hooks for m in model.modules())
    assert all(p.grad is None for p in model.parameters())


def test_summary_explains_a_failed_forward_pass_and_still_restores_the_model():
    model = mlp()
    with pytest.raises(RuntimeError, match=r"zeros of shape \(1, 5\) failed") as info:
        model.summary((5,))
    assert info.value.__cause__ is not None
    assert "without the batch dimension" in str(info.value)
    assert model.training and all(not m._forward_hooks for m in model.modules())


@pytest.mark.parametrize("bad", [(0, 4), (4.0,), ("4",), (-1,)])
def test_summary_rejects_an_input_shape_that_is_not_positive_integers(bad):
    with pytest.raises(ValueError, match="input_shape must be positive integers"):
        mlp().summary(bad)


def test_summary_rejects_a_batch_size_that_is_not_a_positive_integer():
    with pytest.raises(ValueError, match="batch_size"):
        mlp().summary((4,), batch_size=0)


@pytest.mark.parametrize(
    "loss, text",
    [
        (nn.MSELoss(), "MSELoss()"),
        (nn.CrossEntropyLoss(weight=np.ones(3, dtype=np.float32)), "CrossEntropyLoss()"),
        (nn.BCEWithLogitsLoss(), "BCEWithLogitsLoss()"),
    ],
)
def test_loss_modules_print_no_trainable_parameters_line(loss, text):
    assert repr(loss) == text


def test_parameterless_layers_print_pytorchs_repr_and_models_keep_their_count():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(mlp()).endswith("\nTrainable parameters: 67")
