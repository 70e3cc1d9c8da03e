"""The real Payload 3.90.2 contract server (tests/contract/payload/) and the rule for
machines without node: the contract tests are deselected with one line saying so, and
CI, which sets CONTRACT_TESTS_REQUIRED=1, stops instead."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACT_SERVER = REPO_ROOT / "tests" / "contract" / "payload" / "run.sh"
MIN_NODE_MAJOR = 20

missing_node_line = pytest.StashKey[str]()


def node_missing_reason() -> str | None:
    """Why the contract server cannot start here, or None when node 20+ and npm are present."""
    node = shutil.which("node")
    if node is None:
        return f"node {MIN_NODE_MAJOR}+ not found"
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    major = version.removeprefix("v").split(".")[0]
    if not major.isdigit() or int(major) < MIN_NODE_MAJOR:
        return f"node {MIN_NODE_MAJOR}+ not found (node {version or '?'} is too old)"
    if shutil.which("npm") is None:
        return "npm not found"
    return None


def pytest_collection_modifyitems(config, items):
    contract = [item for item in items if item.get_closest_marker("contract")]
    if not contract:
        return
    reason = node_missing_reason()
    if reason is None:
        return
    line = f"{reason}: {len(contract)} contract tests skipped"
    if os.environ.get("CONTRACT_TESTS_REQUIRED"):
        raise pytest.UsageError(f"{line}, but CONTRACT_TESTS_REQUIRED is set")
    # Deselected rather than skipped: one line for all of them instead of one per test.
    config.hook.pytest_deselected(items=contract)
    items[:] = [item for item in items if not item.get_closest_marker("contract")]
    config.stash[missing_node_line] = line


def pytest_terminal_summary(terminalreporter, config):
    if missing_node_line in config.stash:
        terminalreporter.write_line(config.stash[missing_node_line], yellow=True)


def pytest_sessionfinish(session, exitstatus):
    # A run of contract files only has nothing left; that is the skip, not a failure.
    nothing_left = exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED
    if nothing_left and missing_node_line in session.config.stash:
        session.exitstatus = pytest.ExitCode.OK


@pytest.fixture(scope="session")
def payload_reference():
    """The real Payload 3.90.2 server of tests/contract/payload/ with its 500 seeded leads:
    {"url", "authorization"}. The work dir (node_modules, seeded snapshot) is kept in
    var/payload-ref, or PAYLOAD_REF_WORKDIR, so later sessions start in seconds."""
    workdir = os.environ.get("PAYLOAD_REF_WORKDIR") or str(REPO_ROOT / "var" / "payload-ref")
    os.makedirs(workdir, exist_ok=True)
    env = {**os.environ, "PAYLOAD_REF_WORKDIR": workdir, "PAYLOAD_REF_PORT": "0"}
    result = subprocess.run(
        [CONTRACT_SERVER], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"the Payload contract server did not start:\n{result.stderr}")
    info = dict(
        line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("PAYLOAD_REF_")
    )
    yield {"url": info["PAYLOAD_REF_URL"], "authorization": info["PAYLOAD_REF_KEY"]}
    subprocess.run([CONTRACT_SERVER, "stop", workdir], check=False)
