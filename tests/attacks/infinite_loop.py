# Attack: a cell that never ends; the per-cell time limit must stop it.
while True:
    pass
