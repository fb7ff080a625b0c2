"""Shared test settings and fixtures: hypothesis profiles (derandomized in CI), shared MNIST."""

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("chainrule", deadline=None, print_blob=True)
# CI runs the same examples every time, so a landing never hinges on a lucky draw.
settings.register_profile("ci", deadline=None, print_blob=True, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "chainrule")


@pytest.fixture
def shared_mnist() -> Path:
    """The MNIST files beside the checkout (../shared/data/mnist); skip when absent."""
    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    if not (folder / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("MNIST files not found beside the checkout (../shared/data/mnist)")
    return folder
