"""Ray Tune sweeps of the gradient-trained variants and the DQN balancer (``python -m evogan.sweep``).

config.py        the ``sweep:`` section (scheduler, budget, resources, search space spec)
search_space.py  YAML search-space spec -> Tune domains; validation of every value before Ray
schedulers.py    ASHA / PBT / FIFO from the section (Tune's own schedulers)
trainable.py     the function trainable: one IndividualTrainer, FID from the shared FID actor
runner.py        prepare (all checks, no Ray) and run (Ray session, FID actor, Tuner)
export.py        best trial -> "generator" checkpoint
"""
