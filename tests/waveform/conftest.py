"""Signals for the waveform checker's tests; small enough to keep the suite fast."""

from __future__ import annotations

import numpy as np
import pytest

import hil.waveform.chunks
from hil.waveform import kernels


@pytest.fixture(params=[np.float64, np.float32], ids=["f64", "f32"])
def dtype(request: pytest.FixtureRequest) -> type:
    return request.param


@pytest.fixture
def rtol(dtype: type) -> float:
    return 1e-9 if dtype == np.float64 else 1e-5


@pytest.fixture(params=[None, 4096], ids=["chunk-default", "chunk-4KiB"])
def chunk_bytes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a test with the default chunking and with tiny chunks, so chunk edges fall everywhere."""
    if request.param is not None:
        monkeypatch.setattr(hil.waveform.chunks, "CHUNK_BYTES", request.param)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def compiled() -> None:
    """Skip a test that needs the compiled kernels where the package was built without them."""
    if kernels.compiled is None:
        pytest.skip("the package was built without the compiled kernels")


@pytest.fixture(params=["compiled", "numpy"])
def kernel_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test on the compiled kernels and on the numpy paths, which must agree."""
    if request.param == "numpy":
        monkeypatch.setattr(kernels, "compiled", None)
    else:
        request.getfixturevalue("compiled")
    return request.param
