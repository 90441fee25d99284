# Overload workload: after a line on stdin, opens N distinct non-existent paths as fast as possible.
import os
import sys

n = int(sys.argv[1])
prefix = sys.argv[2]
sys.stdin.readline()
for i in range(n):
    try:
        os.open(f"{prefix}{i}", os.O_RDONLY)
    except FileNotFoundError:
        pass
