#!/usr/bin/python3
"""The module as a user installs it: pip and a wheel, offline, each into a fresh venv, then
the Python tests against the installed package (never the build tree's).

    install_check.py --source REPO --tests REPO/tests/python [--work DIR] [--keep]

1. Copies the checkout (tracked and untracked-but-not-ignored files, as they are now) into a
   temporary directory, so no build tree, egg-info or setuptools build/ of the checkout is
   reused and nothing is written into it.
2. `python3 -m build --no-isolation --wheel bindings/python`: setup.py configures the CMake
   project from nothing and builds only the extension target. The wheel goes into a fresh
   `venv --system-site-packages` with `pip install --no-index` (offline: Debian's NumPy,
   pandas, GeoPandas and Dask come from the system site).
3. `pip install --no-index --no-build-isolation bindings/python` of the same copy into a
   second fresh venv: the README's command. It runs setup.py again; its CMake step finds the
   first build's tree in setuptools' build/ of the copy and has nothing left to compile, which
   keeps this test to one compile of the module (~1 min on 2 cores).
4. From a directory outside the source tree, with no PYTHONPATH: every test file of
   tests/python against the wheel's install, and the scalar and pickling tests against pip's.
   HLOC_EXPECT_PACKAGE makes conftest.py fail unless `hospital_locator` is imported from the
   venv under test.

The index paths (HLOC_TEST_INDEX, HLOC_TINY_INDEX) and the CLI (HLOC_CLI) come from the
environment, as for the other Python tests (tests/python/CMakeLists.txt).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def run(command, **kwargs):
    print("+", " ".join(map(str, command)), flush=True)
    subprocess.run([str(c) for c in command], check=True, **kwargs)


def output(command, **kwargs):
    return subprocess.run([str(c) for c in command], check=True, capture_output=True, text=True,
                          **kwargs).stdout.strip()


def copy_checkout(repo: Path, into: Path):
    """The checkout's files as they are now, without build trees, downloads or .git."""
    if (repo / ".git").exists():
        listed = output(["git", "-C", repo, "ls-files", "-z", "--cached", "--others",
                         "--exclude-standard"])
        for name in filter(None, listed.split("\0")):
            source = repo / name
            if source.is_file():  # a tracked file deleted in the working tree is left out
                (into / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, into / name)
    else:  # an unpacked release: everything but what .gitignore would leave out
        def ignored(directory, names):
            top = Path(directory) == repo
            return [n for n in names if n in ("__pycache__", "dist") or n.endswith(".egg-info")
                    or n.endswith(".hlx") or (top and n.startswith("build"))
                    or (Path(directory) == repo / "data" and n == "downloads")
                    or (Path(directory) == repo / "bindings" / "python" and n == "build")]
        shutil.copytree(repo, into, ignore=ignored, dirs_exist_ok=True)


def fresh_venv(path: Path) -> Path:
    run([sys.executable, "-m", "venv", "--system-site-packages", path])
    return path / "bin" / "python"


def check_installed(python: Path, venv: Path, tests: Path, test_files, cwd: Path, env):
    """Imports the package from outside the source tree and runs the tests against it."""
    package = Path(output([python, "-c", "import hospital_locator, os; "
                           "print(os.path.dirname(hospital_locator.__file__))"], cwd=cwd, env=env))
    if venv.resolve() not in package.resolve().parents:
        sys.exit(f"install_check: hospital_locator was imported from {package}, not from the "
                 f"venv {venv}")
    print(f"install_check: hospital_locator imported from {package}", flush=True)
    run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         *[tests / name for name in test_files]],
        cwd=cwd, env={**env, "HLOC_EXPECT_PACKAGE": str(package)})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="the repository")
    parser.add_argument("--tests", type=Path, required=True, help="tests/python")
    parser.add_argument("--work", type=Path, help="where the temporary directory goes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    for variable in ("HLOC_TEST_INDEX", "HLOC_TINY_INDEX", "HLOC_CLI"):
        if not os.environ.get(variable):
            sys.exit(f"install_check: ${variable} is not set (see tests/python/conftest.py)")
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="hloc-install-", dir=args.work))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    ok = False
    try:
        source = work / "source"
        copy_checkout(args.source.resolve(), source)
        package_source = source / "bindings" / "python"
        outside = work / "elsewhere"  # neither the copy nor the checkout
        outside.mkdir()

        run([sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir",
             work / "dist", package_source], env=env)
        wheels = sorted((work / "dist").glob("hospital_locator-*.whl"))
        if len(wheels) != 1:
            sys.exit(f"install_check: expected one wheel, found {wheels}")
        wheel_venv = work / "wheel-venv"
        python = fresh_venv(wheel_venv)
        run([python, "-m", "pip", "install", "--no-index", wheels[0]], env=env, cwd=outside)
        check_installed(python, wheel_venv, args.tests.resolve(),
                        sorted(p.name for p in args.tests.glob("test_*.py")), outside, env)

        pip_venv = work / "pip-venv"
        python = fresh_venv(pip_venv)
        run([python, "-m", "pip", "install", "--no-index", "--no-build-isolation",
             package_source], env=env, cwd=source)
        check_installed(python, pip_venv, args.tests.resolve(),
                        ["test_scalar.py", "test_pickle.py"], outside, env)
        ok = True
    finally:
        if ok and not args.keep:
            shutil.rmtree(work)
        else:
            print(f"install_check: left {work}", flush=True)


if __name__ == "__main__":
    main()
