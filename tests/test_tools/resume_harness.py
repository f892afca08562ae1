"""Run training scripts in subprocesses and SIGKILL them right after a given checkpoint appears."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _env():
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    return env


def run(args, timeout=300):
    """Run ``python ARGS`` to the end; returns its output (raises with it on failure)."""
    proc = subprocess.run([sys.executable, *map(str, args)], env=_env(), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n'
                             f'{proc.stderr[-6000:]}')
    return proc.stdout + proc.stderr


def kill_after_checkpoint(args, work_dir, ckpt_name, timeout=300) -> bool:
    """Start ``python ARGS``; SIGKILL it as soon as ``last_checkpoint`` names ``ckpt_name``.

    Returns True when the process was killed (False: it ended before the checkpoint / kill).
    """
    proc = subprocess.Popen([sys.executable, *map(str, args)], env=_env(), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    last = osp.join(str(work_dir), 'last_checkpoint')
    deadline = time.time() + timeout
    try:
        while proc.poll() is None and time.time() < deadline:
            if osp.isfile(last):
                with open(last) as f:
                    if f.read().strip().endswith(ckpt_name):
                        os.kill(proc.pid, signal.SIGKILL)
                        proc.wait()
                        return True
            time.sleep(0.02)
        err = proc.stderr.read() if proc.poll() is not None else ''
        raise AssertionError(f'{args}: no {ckpt_name} before the run ended '
                             f'(rc {proc.poll()}):\n{err[-4000:]}')
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
