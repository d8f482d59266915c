"""Speed only, results unchanged: BLAS products, flat parameter vectors, C kernels.

- ``blas``    ``gemm`` (C ← αAB + βC) and ``axpy`` through one BLAS (NumPy's OpenBLAS, else
  SciPy's), a large product in pieces cut by its shape
- ``threads`` a training run's threads: BLAS on one, the pieces shared, no bit changed
- ``flat``    parameters and optimiser state as views of one flat vector
- ``kernels`` Adam's update and relu's BP2 step in one pass, and a network's whole mini-batch
  step (forward, BP1-BP4, the update) in one call: the C extension ``_kernels`` (built by pip
  when a compiler is there) or the same arithmetic, bit for bit, in NumPy

Each fast path has a readable twin it is tested equal to: ``nn.Network.backprop`` for the
fused pass in ``nn/_fused.py``, NumPy's expressions for every kernel.
"""
