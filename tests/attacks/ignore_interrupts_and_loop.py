# Attack: a loop that ignores Jupyter's interrupt (SIGINT); only killing the kernel stops it.
import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
