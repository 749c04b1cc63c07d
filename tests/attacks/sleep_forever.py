# Attack: a cell that sleeps (no CPU use) until the time limit stops it.
import time

time.sleep(10**9)
