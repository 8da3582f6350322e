"""Runs a command and reports its peak resident memory, as the kernel counted it.

usage: peak_rss.py PROGRAM [ARG...]
The command's stdout and stdin are its own; its stderr is dropped. The last line on stderr is
the command's peak resident set in KiB (getrusage's ru_maxrss of this process's only child,
exact however short the run). Exits with the command's status.
"""
import resource, subprocess, sys

code = subprocess.call(sys.argv[1:], stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
