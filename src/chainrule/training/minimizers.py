"""SciPy's minimisers on the unrolled parameters: CG and L-BFGS (Coursera ex4's fmincg route).

They hand the unrolled parameter vector (ex4's thetaVec) to ``scipy.optimize.minimize`` with the
whole training set's cost and gradient, as ex4 hands it to fmincg.

>>> LBFGS(max_iter=20)
LBFGS(max_iter=20, gtol=1e-05)
"""

from __future__ import annotations

import numpy as np

from chainrule.errors import InputError, quoted
from chainrule.training.optimizer import Optimizer, _number


class _SciPyMinimizer(Optimizer):
    """Shared by CG and LBFGS: ``scipy.optimize.minimize`` on the unrolled parameters.

    There is no η and no mini-batch: every iteration uses the whole training set, and
    ``max_iter`` is the total number of iterations (``epochs``/``batch_size`` of
    :func:`chainrule.train` are ignored). A resumed run restarts SciPy's search directions
    from the saved weights, so unlike SGD/Adam it is not bit-identical to an uninterrupted one.
    """

    uses_scipy = True
    method = ""

    def __init__(self, max_iter=50, gtol=1e-5):
        if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) \
                or max_iter < 1:
            raise InputError(f"max_iter: expected an integer >= 1, got {quoted(max_iter)}")
        self.max_iter = int(max_iter)
        self.gtol = _number(gtol, "gtol")
        self.base_lr = self.lr = None
        self.schedule = None
        self._buffers = None
        self.t = 0
        self.message = None     # how SciPy's last search ended ("CONVERGENCE: ...")

    def _hyperparams(self):
        return {"max_iter": self.max_iter, "gtol": self.gtol}

    def config(self):
        return {"name": self.name, **self._hyperparams()}

    def start_epoch(self, epoch, history):
        return None

    def step(self, params, grads):
        raise InputError(f"{self.name} minimises the whole cost with SciPy; use "
                         f"chainrule.train, not step()")

    def load_state_dict(self, state, params=None):
        if not isinstance(state, dict):
            raise InputError("optimizer state: expected a dict")
        step = state.get("step", 0)
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise InputError(f"optimizer state step: expected an integer >= 0, got {quoted(step)}")
        self.t = step

    def minimize(self, fun, x0, callback, max_iter):
        """Run SciPy: ``fun(v) -> (cost, gradient)`` in float64, ``callback(v)`` per iteration;
        SciPy's OptimizeResult (:func:`chainrule.train` keeps its ``message`` in
        ``self.message``, and a run that ends before its first iteration is a RunFailed)."""
        from scipy.optimize import minimize

        return minimize(fun, np.asarray(x0, dtype=np.float64), jac=True, method=self.method,
                        callback=callback, options={"maxiter": int(max_iter), "gtol": self.gtol})


class CG(_SciPyMinimizer):
    """Nonlinear conjugate gradients (``method="CG"``), the counterpart of ex4's fmincg.

    >>> CG(max_iter=50)
    CG(max_iter=50, gtol=1e-05)
    """

    name = "CG"
    method = "CG"


class LBFGS(_SciPyMinimizer):
    """Limited-memory BFGS (``method="L-BFGS-B"``, no bounds), the counterpart of fminunc.

    >>> LBFGS().max_iter
    100
    """

    name = "LBFGS"
    method = "L-BFGS-B"

    def __init__(self, max_iter=100, gtol=1e-5):
        super().__init__(max_iter, gtol)
