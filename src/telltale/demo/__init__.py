"""``telltale demo``: a collector and a simulated production service that runs into trouble.

=====================  ======================================================================
module                 holds
=====================  ======================================================================
``dataset``            card transactions from scikit-learn's ``make_classification``, named
``models``             the two versions of the fraud model (scikit-learn pipelines)
``timeline``           the schedule of problems, and the clock that gets through it fast
``service``            two replicas of the scoring service, each version a ``Monitor``
``scenario``           the traffic: arrivals, drift, late labels; ``prepare`` and ``simulate``
``run``                the command: server, keys, reference, rules, progress, summary
``rules.yaml``         the alert rules the demo applies
=====================  ======================================================================

Nothing is downloaded and nothing outside the machine is called: the data is generated, the
models are trained at start (~3 s), and the collector listens on loopback.
"""
