"""Training scripts in PyTorch's style, written once as ``script(torch, init)`` and run against
PyTorch and chainrule by switching the module; their learning curves are compared.

Each script builds its model from ``torch.nn``, loads the same initial weights (``init``, made by
PyTorch under a fixed seed, so that both libraries start from one point), trains it with
``torch.optim`` and ``torch.utils.data`` exactly as a PyTorch tutorial would, and returns what it
logged. Everything runs in float64, so the curves agree to rounding, step after step.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule

torch = pytest.importorskip("torch")


def _images(n: int, side: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise images with one brighter quadrant; the label is that quadrant (4 classes)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, side, side))
    y = rng.integers(0, 4, n)
    h = side // 2
    for i, q in enumerate(y):
        r, c = divmod(int(q), 2)
        x[i, 0, r * h : (r + 1) * h, c * h : (c + 1) * h] += 0.5
    return x, y.astype(np.int64)


def _lenet(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 2 * 2, 32),
        nn.ReLU(),
        nn.Linear(32, 4),
    )


def lenet_with_plateau_schedule(torch, init):
    """A LeNet on 16×16 images: Adam, with ReduceLROnPlateau halving the rate on the validation
    loss (once, at the third epoch, in this run)."""
    x, y = _images(96, 16, seed=0)
    train = torch.utils.data.TensorDataset(torch.tensor(x[:64]), torch.tensor(y[:64]))
    x_val, y_val = torch.tensor(x[64:]), torch.tensor(y[64:])
    loader = torch.utils.data.DataLoader(train, batch_size=16, shuffle=False)
    model = _lenet(torch).double()
    model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=0.5, patience=1, threshold=0.05
    )
    train_losses, val_losses, lrs = [], [], []
    for _epoch in range(10):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            train_losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            val = loss_fn(model(x_val), y_val).item()
        sched.step(val)
        val_losses.append(val)
        lrs.append(opt.param_groups[0]["lr"])
    return {"train": train_losses, "val": val_losses, "lr": lrs}


def _autoencoder(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1),
        nn.Sigmoid(),
    )


def conv_autoencoder(torch, init):
    """A convolutional autoencoder (ConvTranspose2d decoder) trained with Adam on MSE."""
    x, _ = _images(32, 8, seed=1)
    data = torch.tensor(x)
    model = _autoencoder(torch).double()
    model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    opt = torch.optim.Adam(model.parameters(), lr=3e-2)
    losses = []
    for _step in range(40):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(data), data)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return {"loss": losses, "shape": tuple(model(data).shape)}


def _regressor(torch):
    nn = torch.nn
    return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))


def lbfgs_regression(torch, init):
    """A small regression fitted by LBFGS with a strong-Wolfe line search and a closure."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 3))
    y = np.sin(x @ np.array([[1.0], [-0.5], [0.25]])) + 0.1 * x[:, :1]
    xt, yt = torch.tensor(x), torch.tensor(y)
    model = _regressor(torch).double()
    model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=20, line_search_fn="strong_wolfe")
    loss_fn = torch.nn.MSELoss()

    def closure():
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        return loss

    losses = [opt.step(closure).item() for _ in range(4)]
    final = loss_fn(model(xt), yt).item()
    return {"loss": losses, "final": final}


SCRIPTS = [
    (lenet_with_plateau_schedule, _lenet),
    (conv_autoencoder, _autoencoder),
    (lbfgs_regression, _regressor),
]


def _initial_weights(build) -> dict[str, np.ndarray]:
    torch.manual_seed(0)
    model = build(torch).double()
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("script, build", SCRIPTS, ids=lambda s: getattr(s, "__name__", ""))
def test_training_script_follows_pytorchs_curve(script, build):
    init = _initial_weights(build)
    theirs = script(torch, init)
    ours = script(chainrule, init)
    assert ours.keys() == theirs.keys()
    for key, want in theirs.items():
        got = ours[key]
        if isinstance(want, tuple):
            assert tuple(got) == want, key
        else:
            np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9, err_msg=key)


def test_the_scripts_learn():
    """The curves compared above are of training that works: the loss falls in each."""
    for script, build in SCRIPTS:
        log = script(torch, _initial_weights(build))
        curve = log["train"] if "train" in log else log["loss"]
        assert curve[-1] < 0.8 * curve[0], script.__name__
        if "lr" in log:
            assert len(set(log["lr"])) > 1, "the plateau schedule never lowered the rate"
