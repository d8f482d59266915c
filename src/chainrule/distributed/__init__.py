"""Beyond one machine: sweeps over a grid of train options, and data-parallel training.

- ``sweep``    the grid (a product of train options) and ``cr.sweep``
- ``runner``   one run from a dict of train options (what ``chainrule train`` runs too)
- ``backends`` where the runs go: a local process pool or a Dask distributed cluster
- ``results``  the table, the JSON document, and an ``--out`` folder that a rerun resumes
- ``shards``   the data-parallel arithmetic in one process (``chainrule train --shards K``)
- ``mpi``      the same over MPI ranks (``mpiexec -n K chainrule train --mpi``)

Dask and mpi4py are optional extras (``pip install chainrule[dask]``, ``chainrule[mpi]``),
imported only when a sweep or an MPI run asks for them.
"""
