"""One parent keeping N uvicorn workers alive, each accepting only on a socket of its own.

uvicorn's own supervisor hands one listening socket to every worker; whichever wakes first accepts, so a
burst of new connections tends to land on one worker (measured: 8 connections opened together all fell on
one of two workers in 63% of 200 tries) and, with keep-alive, stays there while the other idles. Here each
worker owns one SO_REUSEPORT socket of the same port and the kernel spreads connections by a hash of their
addresses (all 8 on one worker in none of 200 tries: the binomial spread).

A socket must never outlive its worker in the port's group: the kernel would keep queueing connections on
it that nobody accepts. So the parent closes its copy of a worker's socket as soon as the worker is gone
(its process sentinel wakes the parent at once) and before it asks a worker to stop; a replacement gets a
fresh socket, which joins the group when the replacement listens, after its app has started.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from dataclasses import dataclass
from multiprocessing.connection import wait
from types import FrameType

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Process

from serving.sockets import bound_port, reuseport_socket

logger = logging.getLogger("uvicorn.error")
TICK_SECONDS = 0.5
EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Worker:
    """A worker process and the one socket it accepts on (the parent's copy of it)."""

    process: Process
    sock: socket.socket

    @classmethod
    def start(cls, config: Config, port: int) -> Worker:
        sock = reuseport_socket(config.host, port)
        process = Process(config, [sock])
        process.start()
        return cls(process, sock)

    @property
    def sentinel(self) -> int:
        return int(self.process.process.sentinel)

    def stop(self) -> None:
        """Close our copy first, so the socket leaves the group when the worker closes its own."""
        self.sock.close()
        self.process.terminate()

    def reap(self) -> int | None:
        """After the worker has died or hung: make sure it is gone, drop its socket, return its exit code."""
        self.sock.close()
        self.process.kill()
        self.process.join()
        return self.process.exitcode


class Supervisor:
    """Runs until SIGINT or SIGTERM; SIGHUP replaces the workers one at a time, each new one ready first."""

    def __init__(self, config: Config, workers: int) -> None:
        self.config = config
        self.count = workers
        self.workers: list[Worker] = []
        self.signals: list[int] = []
        self.exiting = False
        self.exit_code = 0
        # Bind the first socket now so that port 0 becomes one real port that every worker shares.
        probe = reuseport_socket(config.host, config.port)
        self.port = bound_port(probe)
        self._first: socket.socket | None = probe

    def _queue_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.signals.append(signum)

    def _start_worker(self) -> Worker:
        if self._first is not None:
            sock, self._first = self._first, None
            process = Process(self.config, [sock])
            process.start()
            return Worker(process, sock)
        return Worker.start(self.config, self.port)

    def run(self) -> int:
        for signum in (*EXIT_SIGNALS, signal.SIGHUP):
            signal.signal(signum, self._queue_signal)
        pid, count, port = os.getpid(), self.count, self.port
        logger.info("Started parent process [%d]: %d workers on port %d, one socket each", pid, count, port)
        self.workers = [self._start_worker() for _ in range(self.count)]
        while not self.exiting:
            dead = wait([w.sentinel for w in self.workers], timeout=TICK_SECONDS)
            self._handle_signals()
            if not self.exiting:
                self._replace_dead(set(dead))
        for worker in self.workers:
            worker.stop()
        for worker in self.workers:
            worker.process.join()
        logger.info("Stopping parent process [%d]", os.getpid())
        return self.exit_code

    def _handle_signals(self) -> None:
        while self.signals:
            signum = self.signals.pop(0)
            if signum in EXIT_SIGNALS:
                logger.info("Received %s, exiting.", signal.Signals(signum).name)
                self.exiting = True
            elif signum == signal.SIGHUP and not self.exiting:
                logger.info("Received SIGHUP, replacing the workers one at a time.")
                self._restart_all()

    def _replace_dead(self, dead: set[object]) -> None:
        timeout = self.config.timeout_worker_healthcheck
        for index, worker in enumerate(self.workers):
            if worker.sentinel not in dead and worker.process.is_alive(timeout=timeout):
                continue
            code = worker.reap()
            if code == STARTUP_FAILURE:
                logger.error("Worker [%s] failed to start; stopping.", worker.process.pid)
                self.exiting, self.exit_code = True, STARTUP_FAILURE
                return
            logger.info("Worker [%s] died (exit code %s); starting another.", worker.process.pid, code)
            self.workers[index] = Worker.start(self.config, self.port)

    def _restart_all(self) -> None:
        for index, old in enumerate(self.workers):
            new = Worker.start(self.config, self.port)
            if not new.process.wait_until_ready(self.config.timeout_worker_healthcheck):
                new.reap()
                pids = new.process.pid, old.process.pid
                logger.error("Worker [%s] was not ready in time; keeping [%s].", *pids)
                return
            old.stop()
            old.process.join()
            self.workers[index] = new
