"""Root conftest: registers the framework's fixtures for the suites and the framework's own tests."""

pytest_plugins = [
    "fixtures.bench",
    "fixtures.measure",
    "fixtures.dut",
    "fixtures.suite",
    "fixtures.record",
    "fixtures.models",
    "fixtures.faults",
    "fixtures.environment",
    "fixtures.allure_steps",
    "hil.waveform.pytest_plugin",
]
