"""Nielsen's *Neural Networks and Deep Learning*, ch. 1 and ch. 3: the settings of each MNIST
experiment, the lines of ``network.py`` / ``network2.py`` that ran it, and the figures the book
reports, each with the sentence it comes from.

Every run is a [784, n, 10] sigmoid network trained by mini-batch SGD (mini-batch 10, one
shuffle per epoch) on the 50,000 training digits of ``mnist.pkl.gz`` and scored after every
epoch on the 10,000 test or validation digits. ``net.large_weight_initializer()`` (and all of
``network.py``) draws weights and biases from N(0, 1), chainrule's ``init="normal"``;
``network2``'s default draws weights from N(0, 1/n_in), chainrule's ``"scaled-normal"``.
L2 is ``network2``'s weight decay (1 − ηλ/n) w with n = 50,000, which is chainrule's ``l2``.

>>> len(EXPERIMENTS), EXPERIMENTS["nielsen-ch1"].figures[0].text
(5, '95.42 % at its peak (Epoch 28)')
>>> print(EXPERIMENTS["nielsen-ch1"].runs[0].describe())       # doctest: +NORMALIZE_WHITESPACE
[784, 30, 10] sigmoid, quadratic cost, N(0, 1) weights and biases, SGD η = 3, mini-batch 10,
30 epochs, scored on the test digits
"""

from __future__ import annotations

from chainrule.books.experiment import Experiment, Figure, Run

CH1 = "Nielsen, ch. 1, “Implementing our network to classify digits”"
CH3_CROSS_ENTROPY = "Nielsen, ch. 3, “Using the cross-entropy to classify MNIST digits”"
CH3_L2 = "Nielsen, ch. 3, “Overfitting and regularization”: “Regularization”"
CH3_INIT = "Nielsen, ch. 3, “Weight initialization”"

_LOAD = ">>> training_data, validation_data, test_data = mnist_loader.load_data_wrapper()\n"
_CE = "cost=network2.CrossEntropyCost"
_LARGE = ">>> net.large_weight_initializer()\n"


def _network2(hidden, call, large=True):
    return (f"{_LOAD}>>> net = network2.Network([784, {hidden}, 10], {_CE})\n"
            + (_LARGE if large else "") + f">>> net.SGD({call})")


CH1_RUN = Run("", (784, 30, 10), "quadratic", "normal", 3.0, code=(
    f"{_LOAD}>>> net = network.Network([784, 30, 10])\n"
    ">>> net.SGD(training_data, 30, 10, 3.0, test_data=test_data)"))

EXPERIMENTS = {e.name: e for e in [
    Experiment(
        "nielsen-ch1", "network.py: 30 hidden neurons, the quadratic cost",
        CH1, (CH1_RUN,),
        (Figure("95.42 % at its peak (Epoch 28)", 95.42, "best", "=",
                "That is, the trained network gives us a classification rate of about 95 "
                "percent - 95.42 percent at its peak (\"Epoch 28\")!", CH1),),
        note="To generate results in this chapter I've taken best-of-three runs."),
    Experiment(
        "nielsen-ch3-cross-entropy", "network2.py: the same network with the cross-entropy",
        CH3_CROSS_ENTROPY,
        (Run("", (784, 30, 10), "cross-entropy", "normal", 0.5, code=_network2(
            30, "training_data, 30, 10, 0.5, evaluation_data=test_data,\n"
                "... monitor_evaluation_accuracy=True")),),
        (Figure("95.49 %", 95.49, "best", "=",
                "The result from running the above sequence of commands is a network with "
                "95.49 percent accuracy.", CH3_CROSS_ENTROPY),)),
    Experiment(
        "nielsen-ch3-100", "network2.py: 100 hidden neurons, the cross-entropy",
        CH3_CROSS_ENTROPY,
        (Run("", (784, 100, 10), "cross-entropy", "normal", 0.5, code=_network2(
            100, "training_data, 30, 10, 0.5, evaluation_data=test_data,\n"
                 "... monitor_evaluation_accuracy=True")),),
        (Figure("96.82 %", 96.82, "best", "=",
                "Let's look also at the case where we use 100 hidden neurons, the "
                "cross-entropy, and otherwise keep the parameters the same.  In this case we "
                "obtain an accuracy of 96.82 percent.", CH3_CROSS_ENTROPY),),
        note="The chapter shows no code for this run; it keeps the lines of the 30-neuron run."),
    Experiment(
        "nielsen-ch3-l2", "network2.py: L2 regularisation, λ = 5.0, with 30 and 100 hidden "
        "neurons", CH3_L2,
        (Run("30 hidden, test data", (784, 30, 10), "cross-entropy", "normal", 0.5, l2=5.0,
             code=_network2(30, "training_data, 30, 10, 0.5,\n"
                                "... evaluation_data=test_data, lmbda = 5.0,\n"
                                "... monitor_evaluation_accuracy=True, "
                                "monitor_training_accuracy=True")),
         Run("100 hidden, validation data", (784, 100, 10), "cross-entropy", "normal", 0.5,
             l2=5.0, evaluation="validation",
             code=_network2(100, "training_data, 30, 10, 0.5, lmbda=5.0,\n"
                                 "... evaluation_data=validation_data,\n"
                                 "... monitor_evaluation_accuracy=True"))),
        (Figure("96.49 % on the test data", 96.49, "best", "=",
                "First, our classification accuracy on the test data is up, from 95.49 percent "
                "when running unregularized, to 96.49 percent.", CH3_L2,
                run="30 hidden, test data"),
         Figure("97.92 % on the validation data, final", 97.92, "last", "=",
                "The final result is a classification accuracy of 97.92 percent on the "
                "validation data.", CH3_L2, run="100 hidden, validation data"))),
    Experiment(
        "nielsen-ch3-init", "network2.py: 1/√n_in weights against the old N(0, 1) ones",
        CH3_INIT,
        (Run("old: N(0, 1) weights", (784, 30, 10), "cross-entropy", "normal", 0.1, l2=5.0,
             evaluation="validation", code=_network2(
                 30, "training_data, 30, 10, 0.1, lmbda = 5.0,\n"
                     "... evaluation_data=validation_data,\n"
                     "... monitor_evaluation_accuracy=True")),
         Run("new: N(0, 1/n_in) weights", (784, 30, 10), "cross-entropy", "scaled-normal", 0.1,
             l2=5.0, evaluation="validation", code=_network2(
                 30, "training_data, 30, 10, 0.1, lmbda = 5.0,\n"
                     "... evaluation_data=validation_data,\n"
                     "... monitor_evaluation_accuracy=True", large=False))),
        (Figure("old approach: under 87 % after the first epoch", 87.0, "first", "<",
                "At the end of the first epoch of training the old approach to weight "
                "initialization has a classification accuracy under 87 percent, while the new "
                "approach is already almost 93 percent.", CH3_INIT, run="old: N(0, 1) weights"),
         Figure("new approach: almost 93 % after the first epoch", 93.0, "first", "~",
                "At the end of the first epoch of training the old approach to weight "
                "initialization has a classification accuracy under 87 percent, while the new "
                "approach is already almost 93 percent.", CH3_INIT,
                run="new: N(0, 1/n_in) weights"),
         Figure("old approach: somewhat over 96 % at the end", 96.0, "last", ">",
                "In both cases, we end up with a classification accuracy somewhat over 96 "
                "percent.", CH3_INIT, run="old: N(0, 1) weights"),
         Figure("new approach: somewhat over 96 % at the end", 96.0, "last", ">",
                "In both cases, we end up with a classification accuracy somewhat over 96 "
                "percent.", CH3_INIT, run="new: N(0, 1/n_in) weights"))),
]}
