"""One BLAS thread for these tests: their problems are small, and on a busy machine threads
that wait for each other made the same fits several times slower (the results are the same)."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def one_blas_thread():
    with threadpool_limits(limits=1):
        yield
