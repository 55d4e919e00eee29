"""``feedwright serve`` as a long-running process: signals, reload, limits, logs.

- **SIGTERM, SIGINT**: stop accepting connections, finish the open ones, ask a running
  build to stop at a safe point (:meth:`Rebuilder.stop`: while it reads posts it gives
  up and writes nothing; once it writes, it finishes), wait for it at most
  ``server.shutdown_timeout`` seconds in all, and return, so the process exits 0. The
  build lock is released when the build ends (or, past the timeout, when the process
  does); every write is atomic, so no feed is ever half-written. A second SIGINT quits
  at once.
- **Every build, and SIGHUP**: read ``config.yaml`` and the site's ``_config.yml`` again
  (:class:`~feedwright.reloader.Reloader`, shared with ``watch``): a build reads them
  after ``webhook.before_build`` (which may have pulled a new ``_config.yml``), a SIGHUP
  at once (:meth:`ServeProcess.reload`). A config that does not load is logged and shown
  in ``/status``; the last good one stays and the server keeps serving and building.
  Otherwise the new config is applied to the build and to the app (``output``,
  ``feeds_url``, metrics, limits, webhook): a new app is swapped in, so the process and
  its open connections stay. The listening address cannot move without a restart: a
  changed ``server.host``/``server.port`` is refused, with a message saying so, and the
  rest is applied. A SIGHUP that changes the feeds triggers one build.

uvicorn installs handlers for SIGINT and SIGTERM that end by raising the signal again
(so the process dies of it, not exit 0); :class:`_Server` replaces them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import threading
import time
from collections.abc import Generator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from starlette.types import Receive, Scope, Send

from ..config import Config
from ..hooks import HookRunner
from ..model import BuildReport
from ..reloader import Loader, Reload, Reloader
from . import webhook
from .app import check_address, create_app
from .buildlog import log_build, log_hook
from .metrics import Metrics
from .protocol import Limits, protocol_class
from .rebuild import OnFinish, Rebuilder
from .websub import Publisher

log = logging.getLogger("feedwright.serve")


class SwappableApp:
    """An ASGI app that forwards to another, which a reload replaces between requests."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class _Server(uvicorn.Server):
    """uvicorn with feedwright's signal handling: exit 0 on SIGTERM/SIGINT, reload on HUP."""

    def __init__(self, config: uvicorn.Config, process: ServeProcess) -> None:
        super().__init__(config)
        self.process = process
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: Any = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)
        # Unlike uvicorn, the signal is not raised again: a graceful stop exits 0.

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGHUP:
            if self.loop is not None:
                self.loop.call_soon_threadsafe(self.process.reload)
            return
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True  # a second Ctrl-C: wait for nothing more
            self.process.hurry()
            return
        if not self.should_exit:
            self.process.begin_shutdown(signal.Signals(sig).name)
        self.should_exit = True


class ServeProcess:
    """One ``feedwright serve``: the app, the rebuilder, and what a reload may change."""

    def __init__(
        self,
        config: Config,
        *,
        load: Loader,
        host: str | None,
        port: int | None,
        cwd: str | Path | None,
        environ: Mapping[str, str],
    ) -> None:
        self.config = config
        #: The command line's --host/--port (they win over server.host/server.port).
        self._cli_address = (host, port)
        self.host, self.port = self._address(config)
        self.reloader = Reloader(load, config, pin=self._pin_address)
        self._reload_lock = threading.Lock()
        self.environ = environ
        self.limits = Limits(config.server.read_timeout, config.server.max_connections)
        self.publisher = Publisher(config.websub.hubs) if config.websub.hubs else None
        self.rebuilder = Rebuilder(
            config,
            cwd=cwd,
            publisher=self.publisher,
            on_finish=self._finished,
            hooks=HookRunner(log_hook),
            reload=self._config_for_build,
        )
        self.metrics = Metrics(self._live)
        self.deliveries = webhook.DeliveryLog()
        self.app = SwappableApp(self._make_app(config))
        self._deadline: float | None = None
        self.on_finish: OnFinish | None = None

    # -- the app ------------------------------------------------------------------------------
    def _address(self, config: Config) -> tuple[str, int]:
        host, port = self._cli_address
        return (
            host if host is not None else config.server.host,
            port if port is not None else config.server.port,
        )

    def _make_app(self, config: Config) -> Any:
        return create_app(
            config,
            self.rebuilder,
            environ=self.environ,
            metrics=self.metrics,
            status_extra=self._status,
            deliveries=self.deliveries,
        )

    def _status(self) -> dict[str, Any]:
        reloader = self.reloader
        return {
            "config": {
                "file": self.config.file,
                "loaded": reloader.loaded_at,
                "reloads": reloader.changes,
                "error": reloader.error,
                "refused": list(reloader.refused),
            }
        }

    def _live(self) -> dict[str, Any]:
        status = self.rebuilder.status()
        pings = self.publisher.status() if self.publisher is not None else {}
        return {
            "running": status["running"],
            "queued": status["queued"],
            "pings_sent": pings.get("sent", 0),
            "pings_failed": pings.get("failed", 0),
            "timed_out": self.limits.timed_out,
            "refused": self.limits.refused,
        }

    # -- builds ---------------------------------------------------------------------------------
    def _finished(self, record: dict[str, Any], report: BuildReport | None) -> None:
        self.metrics.build_finished(record, report)
        log_build(record, report)
        if self.on_finish is not None:
            self.on_finish(record, report)

    # -- reload ---------------------------------------------------------------------------------
    def reload(self) -> None:
        """SIGHUP: read the config again and apply what can be applied (see the module)."""
        log.info("SIGHUP: reloading %s", self.config.file, extra={"event": "reload"})
        old = self.config
        found = self._reload(asked=True)
        if found.error is not None:
            return
        new = self.config
        # Only the server's and the webhook's settings change no feed.
        feeds_changed = dataclasses.replace(new, server=old.server, webhook=old.webhook) != old
        outcome = self.rebuilder.request("reload") if feeds_changed else "none"
        log.info(
            "reloaded %s; build: %s",
            new.file,
            outcome,
            extra={"event": "reload", "result": "ok", "build": outcome},
        )

    def _config_for_build(self) -> Config:
        """The rebuilder's ``reload``: the config read afresh before each build."""
        found = self._reload(asked=False)
        if found.changed:
            log.info(
                "%s changed: this build and the server use it",
                self.config.file,
                extra={"event": "reload", "result": "ok", "build": "this"},
            )
        return self.config

    def _reload(self, *, asked: bool) -> Reload:
        """Read the config again; apply it if it changed; log what went wrong (every time
        when ``asked`` by a SIGHUP, else once per mistake)."""
        with self._reload_lock:
            found = self.reloader.reload()
            if found.error is not None and (asked or found.news):
                log.error(
                    "reload failed, still serving with the config loaded at %s: %s",
                    self.reloader.loaded_at,
                    found.error,
                    extra={"event": "reload", "result": "failed", "error": found.error},
                )
            if asked or found.news:
                for message in found.refused:
                    log.warning(
                        "reload: %s", message, extra={"event": "reload", "result": "refused"}
                    )
            if found.changed and found.config is not None:
                self._apply(found.config)
            return found

    def _pin_address(self, old: Config, new: Config) -> tuple[Config, list[str]]:
        """The reloader's ``pin``: a listening server cannot move to a new address."""
        address = self._address(new)
        if address == (self.host, self.port):
            return new, []
        message = (
            f"server address {address[0]}:{address[1]}: cannot move a listening server "
            f"(still on {self.host}:{self.port}); restart feedwright to listen there"
        )
        server = dataclasses.replace(new.server, host=old.server.host, port=old.server.port)
        return dataclasses.replace(new, server=server), [message]

    def _apply(self, new: Config) -> None:
        """Use ``new`` from now on: in the next build, the app, the limits and the pings."""
        if new.websub.hubs != self.config.websub.hubs:
            self.publisher = Publisher(new.websub.hubs) if new.websub.hubs else None
        self.config = new
        self.rebuilder.set_config(new, publisher=self.publisher)
        self.limits.read_timeout = new.server.read_timeout
        self.limits.max_connections = new.server.max_connections
        self.app.app = self._make_app(new)

    # -- shutdown -------------------------------------------------------------------------------
    def begin_shutdown(self, signame: str) -> None:
        """SIGTERM/SIGINT: start the clock and ask a running build to stop at a safe point."""
        timeout = self.config.server.shutdown_timeout
        self._deadline = time.monotonic() + timeout
        running = self.rebuilder.status()["running"]
        log.info(
            "%s: shutting down (a running build stops at a safe point or finishes; %g s at most)",
            signame,
            timeout,
            extra={"event": "shutdown", "signal": signame, "build_running": running},
        )
        self.rebuilder.stop()

    def hurry(self) -> None:
        """Wait no longer for a running build (a second Ctrl-C)."""
        self._deadline = time.monotonic()

    def finish_shutdown(self) -> bool:
        """Wait for the build until the deadline; ``False`` if it still runs."""
        deadline = self._deadline or time.monotonic() + self.config.server.shutdown_timeout
        self.rebuilder.stop()
        # The build, then a running after_build hook (stopped, with its process group,
        # when the time is up).
        done = self.rebuilder.close(max(0.0, deadline - time.monotonic()))
        if self.publisher is not None:
            self.publisher.join(max(0.0, min(2.0, deadline - time.monotonic())))
        if done:
            log.info("stopped", extra={"event": "shutdown", "result": "ok"})
        else:
            log.error(
                "a build still runs after server.shutdown_timeout (%g s); exiting anyway: "
                "every file it wrote is complete, and the next build redoes the rest",
                self.config.server.shutdown_timeout,
                extra={"event": "shutdown", "result": "timeout"},
            )
        return done

    # -- run ------------------------------------------------------------------------------------
    def run(self, *, build_first: bool = True) -> bool:
        """Serve until SIGTERM/SIGINT. ``True`` if no build was left running."""
        check_address(self.host, self.port)
        server_config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            http=protocol_class(self.limits),
            ws="none",
            lifespan="off",
            log_config=None,
            log_level="info",
            timeout_graceful_shutdown=max(1, round(self.config.server.shutdown_timeout)),
        )
        server = _Server(server_config, self)
        if build_first:
            self.rebuilder.request("startup")
        try:
            server.run()
        finally:
            if self._deadline is None:  # ended otherwise (e.g. the port was taken)
                self.begin_shutdown("exit")
            done = self.finish_shutdown()
        return done


def serve(
    config: Config,
    *,
    load: Loader,
    host: str | None,
    port: int | None,
    cwd: str | Path | None,
    environ: Mapping[str, str],
    build_first: bool = True,
) -> bool:
    """Run the server until SIGTERM/SIGINT (the ``feedwright serve`` command).

    Raises :class:`~feedwright.errors.ServeError`, before building anything, if it cannot
    listen on the address. ``True`` if it stopped with no build left running.
    """
    process = ServeProcess(config, load=load, host=host, port=port, cwd=cwd, environ=environ)
    return process.run(build_first=build_first)
