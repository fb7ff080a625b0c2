"""Datasets and mini-batches: PyTorch's ``torch.utils.data`` names, on NumPy.

>>> import chainrule.data as data
>>> X, y = data.moons(200, noise=0.1, generator=0)       # float32 (200, 2), int64 (200,)
>>> train, test = data.random_split(data.TensorDataset(X, y), [0.8, 0.2], generator=0)
>>> for xb, yb in data.DataLoader(train, batch_size=32, shuffle=True):
...     pass                                              # Tensors (32, 2) float32, (32,) int64

Modules: ``dataset`` (Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset,
ChainDataset, StackDataset, random_split), ``sampler`` (the samplers), ``collate``
(default_collate, default_convert), ``dataloader`` (DataLoader), ``datasets`` (built-in toy
sets and scikit-learn's digits), ``idx`` (the IDX file format), ``mnist`` (MNIST from local
files) and ``download`` (the opt-in, checksummed MNIST downloader; the only code here that uses
the network).
``text`` (the shipped names and tiny Shakespeare corpora, CharTokenizer) and
``text_datasets`` (their next-token and makemore datasets, random_blocks) are for language models.
"""

from types import ModuleType as _ModuleType

from chainrule.data.collate import default_collate, default_convert
from chainrule.data.dataloader import DataLoader
from chainrule.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from chainrule.data.datasets import blobs, circles, digits, moons, sine, spirals, xor
from chainrule.data.download import (
    DEFAULT_BASE_URL,
    MNIST_FILES,
    MNIST_SHA256,
    ChecksumError,
    DownloadError,
    default_cache_dir,
    download_mnist,
)
from chainrule.data.idx import IDXFormatError, parse_idx, read_idx
from chainrule.data.mnist_files import mnist, mnist_5k, mnist_csv
from chainrule.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from chainrule.data.text import CharTokenizer, TokenizerFormatError, load_text
from chainrule.data.text_datasets import (
    NamesContextDataset,
    NextTokenDataset,
    names,
    random_blocks,
    shakespeare,
)
from chainrule.data.worker import get_worker_info

# Every public name imported above (not the submodules that imports bind, except the public
# ones), so that a new family needs only its import line.
__all__ = sorted(
    name
    for name, value in dict(globals()).items()
    if not name.startswith("_") and (not isinstance(value, _ModuleType) or name in ())
)
