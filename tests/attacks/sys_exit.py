# Attack: leave the kernel cleanly in the middle of the notebook.
import sys

sys.exit(0)
