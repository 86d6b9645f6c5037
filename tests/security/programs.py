"""Small hostile programs the red-team tests run inside the sandbox (as `python3 -c`)."""

# two busy processes for 1.5 s (3 CPU-seconds on 2 free cores); prints what they got
SPIN = """
import os, time
children = []
for _ in range(2):  # two busy processes: on 2 cores, 2 CPU-seconds a second unlimited
    pid = os.fork()
    if pid == 0:
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            pass
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
times = os.times()
print(round(times.children_user + times.children_system, 3))
"""
