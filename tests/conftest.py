"""Shared test settings and fixtures: hypothesis without deadlines, the shared MNIST folder."""

from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("chainrule", deadline=None, print_blob=True)
settings.load_profile("chainrule")


@pytest.fixture
def shared_mnist() -> Path:
    """The MNIST files beside the checkout (../shared/data/mnist); skip when absent."""
    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    if not (folder / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("MNIST files not found beside the checkout (../shared/data/mnist)")
    return folder
