"""pytest plugin: attach waveform check results to Allure, on failure or (--waveform-plots=always) always.

Every CheckResult made while a test runs is collected; after the test body, the failing ones
(or all) are attached, so ``assert is_constant(...)`` needs no extra call to leave its plot behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hil.waveform.allure_attach import attach_result
from hil.waveform.result import CheckResult, add_observer, remove_observer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("waveform").addoption(
        "--waveform-plots",
        choices=("failures", "always"),
        default="failures",
        help="attach waveform check plots to Allure for failing checks only (default) or for every check",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    made: list[CheckResult] = []
    collect = made.append
    add_observer(collect)
    try:
        yield
    finally:
        remove_observer(collect)
    always = item.config.getoption("waveform_plots") == "always"
    for result in made:
        if always or not result.passed:
            attach_result(result)


@pytest.fixture
def waveform_report() -> Callable[[CheckResult], CheckResult]:
    """Attach a result now, whatever its verdict; returns it, so ``assert waveform_report(check(...))``."""

    def report(result: CheckResult) -> CheckResult:
        attach_result(result)
        return result

    return report
