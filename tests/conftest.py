"""Fixtures the framework's own tests share."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import pytest
import pyvisa

from instruments.base import Instrument

Exchange = tuple[bytes, bytes | None]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests that use the session's bench (``fixtures.bench``: a simulator process, its CAN
    traffic, the VCU's cyclic frames) run last. A session fixture lives until the session ends: run
    early, it kept a quarter of a core busy (0.24, an opened simulated bench at rest) under every
    later test, the real-time ones included."""

    def uses_the_session_bench(item: pytest.Item) -> bool:
        definitions = getattr(item, "_fixtureinfo", None)
        found = definitions.name2fixturedefs.get("bench", ()) if definitions is not None else ()
        return bool(found) and found[-1].scope == "session"

    items.sort(key=uses_the_session_bench)  # stable: each group keeps its order


@pytest.fixture(scope="session", autouse=True)
def temporary_files_stay_with_the_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The processes the tests start take their temporary files from the session's own directory. A
    run that a test kills with SIGKILL leaves its simulated bench's command log behind, as it should
    (the record of what the bench was told before the crash), and that belongs with the test's files,
    not in the machine's /tmp."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(tmp_path_factory.mktemp("tmp")))
        yield


@pytest.fixture
def no_thread_left_behind() -> Iterator[None]:
    """Fails the test if a thread it started is still running shortly after its teardown."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while leftover := [t for t in threading.enumerate() if t not in before and t.is_alive()]:
        assert time.monotonic() < deadline, f"threads left running: {[t.name for t in leftover]}"
        time.sleep(0.01)


class _ScriptedInstrument:
    """A loopback TCP peer that expects exact bytes and answers scripted replies.

    Protocol tests talk to it through the real pyvisa-py socket transport, so what is checked is
    what a real instrument would receive on the wire, terminators included.
    """

    def __init__(self, exchanges: Sequence[Exchange], terminator: bytes) -> None:
        self.exchanges = list(exchanges)
        self.terminator = terminator
        self.failures: list[str] = []
        self.received: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._listener.accept()
        with conn:
            buffer = b""
            for index, (expected, reply) in enumerate(self.exchanges):
                while self.terminator not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        self.failures.append(f"exchange {index}: connection closed, expected {expected!r}")
                        return
                    buffer += chunk
                end = buffer.index(self.terminator) + len(self.terminator)
                sent, buffer = buffer[:end], buffer[end:]
                self.received.append(sent)
                if sent != expected:
                    self.failures.append(f"exchange {index}: driver sent {sent!r}, expected {expected!r}")
                    return
                if reply is not None:
                    conn.sendall(reply)
            conn.settimeout(2.0)
            try:
                while chunk := conn.recv(65536):
                    buffer += chunk
            except TimeoutError:
                self.failures.append("connection still open after the last exchange")
            if buffer:
                self.failures.append(f"driver sent more than expected: {buffer!r}")

    def finish(self) -> None:
        self._thread.join(timeout=5)
        self._listener.close()
        assert not self._thread.is_alive(), "scripted instrument did not finish"
        assert not self.failures, "\n".join(self.failures)


@pytest.fixture
def expected_protocol() -> Callable[..., object]:
    """A driver connected to a scripted peer: ``with expected_protocol(IT6000C, exchanges) as supply:``

    ``exchanges`` lists (bytes the driver must send, bytes to reply or None).
    """

    @contextmanager
    def run(
        driver_cls: type[Instrument],
        exchanges: Sequence[Exchange],
        *,
        model: str | None = None,
        timeout_ms: int = 300,
    ) -> Iterator[Instrument]:
        peer = _ScriptedInstrument(exchanges, driver_cls.write_termination.encode()[-1:])
        rm = pyvisa.ResourceManager("@py")
        driver = driver_cls.open(
            rm,
            f"TCPIP0::127.0.0.1::{peer.port}::SOCKET",
            name="dut-under-test",
            model=model,
            timeout_ms=timeout_ms,
        )
        try:
            yield driver
        finally:
            driver.close()  # not rm.close(): the "@py" manager is shared by the whole process
        peer.finish()

    return run


def need(what: str, found: object) -> None:
    """Skip without ``found``; in CI (``CI`` set) fail instead: .ci/run installs what tests need."""
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing; .ci/run installs it")
    pytest.skip(f"{what} is not installed")


# a real headless Chromium (Debian's package, driven by Playwright), one for each test (about a
# second): in a whole CI session one shared browser rendered the first report and left the later ones
# blank for 30 s (not seen with these tests alone); a test's failure carries what its page wrote to
# the console
@pytest.fixture
def browser() -> Iterator[object]:
    chromium = shutil.which("chromium")
    need("Chromium (Debian: chromium)", chromium)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    need("Playwright (pip: playwright)", sync_playwright)
    with sync_playwright() as driver:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start;
        # --disable-dev-shm-usage: a container's /dev/shm (64 MB by default) is too small for two
        # workers' renderers, and Chromium's renderer crashes when it runs out (the page log says so)
        launched = driver.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call" and report.failed and hasattr(item, "page_log"):
        # what the page itself said: a page that does not render says why in its console
        report.sections.append(("page console", "\n".join(item.page_log) or "(nothing)"))
    return report


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    opened = browser.new_page()
    opened.set_default_timeout(30_000)
    log: list[str] = []
    opened.on("console", lambda message: log.append(f"{message.type}: {message.text}"))
    opened.on("pageerror", lambda error: log.append(f"page error: {error}"))
    opened.on("crash", lambda _: log.append("the page's renderer crashed"))
    request.node.page_log = log
    try:
        yield opened
    finally:
        opened.close()
