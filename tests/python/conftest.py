"""Shared fixtures: the real GB index, the tiny two-treatment index, and the CLI to compare
with. Paths come from ctest (tests/python/CMakeLists.txt); to run by hand:

    PYTHONPATH=build-py/bindings/python HLOC_TEST_INDEX=/tmp/gb.hlx \
    HLOC_TINY_INDEX=build-py/test-work/tiny.hlx HLOC_CLI=build-py/tools/hospital-locator \
    python3 -m pytest -q tests/python
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

import hospital_locator as hl


def _path(variable):
    value = os.environ.get(variable)
    if not value:
        pytest.fail(f"${variable} is not set: run through ctest, or see tests/python/conftest.py")
    return value


@pytest.fixture(scope="session", autouse=True)
def installed_package():
    """Under tests/python/install_check.py: fail unless the package under test is the one
    installed in the venv being checked (not a build tree's, nor the source's)."""
    expected = os.environ.get("HLOC_EXPECT_PACKAGE")
    if expected:
        found = Path(hl.__file__).resolve().parent
        assert found == Path(expected).resolve(), f"hospital_locator imported from {found}"


@pytest.fixture(scope="session")
def gb_path():
    return _path("HLOC_TEST_INDEX")


@pytest.fixture(scope="session")
def gb(gb_path):
    return hl.Index(gb_path)


@pytest.fixture(scope="session")
def tiny_path():
    return _path("HLOC_TINY_INDEX")


@pytest.fixture(scope="session")
def tiny(tiny_path):
    return hl.Index(tiny_path)


@pytest.fixture(scope="session")
def all_postcodes(gb):
    return gb.postcodes()


class Cli:
    """The reference shell: `hospital-locator <args> --format json|csv` on an index."""

    def __init__(self, exe, index):
        self.exe, self.index = exe, index

    def run(self, *args):
        p = subprocess.run([self.exe, *args, "--index", self.index], capture_output=True,
                           text=True, check=False)
        return p.returncode, p.stdout, p.stderr

    def json(self, *args):
        code, out, err = self.run(*args, "--format", "json")
        assert code == 0, err
        return json.loads(out)

    def error(self, *args):
        """The error object the CLI prints on stderr, exit code 2."""
        code, out, err = self.run(*args, "--format", "json")
        assert code == 2, (code, out, err)
        return json.loads(err)["error"]


@pytest.fixture(scope="session")
def cli(gb_path):
    return Cli(_path("HLOC_CLI"), gb_path)


@pytest.fixture(scope="session")
def tiny_cli(tiny_path):
    return Cli(_path("HLOC_CLI"), tiny_path)


@pytest.fixture()
def work(tmp_path):
    return Path(tmp_path)
