#!/usr/bin/env python3
"""pty_run.py ANSWER [--line TEXT]... -- CMD ARGS...

Runs CMD on a new pseudo-terminal (stdin, stdout and stderr all on it, as
an interactive user has them), answers ANSWER + newline whenever the output
shows a new "Enter password: " prompt, types each --line TEXT (then Enter)
when the output ends with a prompt ("> "), and writes everything the
terminal showed to stdout,
followed by a line "exit=N". Used by test_tty.sh to drive the CLI the way a
person at a terminal does. Gives up (exit 3) after 30 s of silence."""
import os
import pty
import select
import sys


def main():
    sep = sys.argv.index("--")
    answer = sys.argv[1].encode()
    cmd = sys.argv[sep + 1:]
    lines = [sys.argv[i + 1].encode() for i in range(2, sep) if sys.argv[i] == "--line"]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""
    asked = 0
    while True:
        ready, _, _ = select.select([fd], [], [], 30)
        if not ready:
            sys.stdout.write("pty_run: no output for 30 s\n")
            os.kill(pid, 9)
            sys.exit(3)
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
        if out.count(b"Enter password: ") > asked:
            asked += 1
            os.write(fd, answer + b"\n")
        elif lines and out.endswith(b"> "):
            os.write(fd, lines.pop(0) + b"\n")
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode("utf-8", "replace").replace("\r\n", "\n"))
    sys.stdout.write("exit=%d\n" % os.waitstatus_to_exitcode(status))


main()
