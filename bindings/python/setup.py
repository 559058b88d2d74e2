"""The compiled part of hospital_locator (_core), built by the project's own CMake.

pyproject.toml holds the metadata; this file only tells setuptools that the package has an
extension and how to build it: configure the whole CMake project (this directory is
bindings/python inside it) without its tests and benchmarks, build the one target
hloc_python_core (the extension and the engine and contract libraries it links), and copy
the module into the wheel. The CMake build directory is setuptools' build_temp, so a second
`pip install` of the same checkout rebuilds only what changed.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

PROJECT = Path(__file__).resolve().parent.parent.parent  # the repository: its CMakeLists.txt


class CMakeBuild(build_ext):
    """build_ext for the one extension: CMake builds it, setuptools packs it."""

    def build_extension(self, ext):
        if not (PROJECT / "CMakeLists.txt").is_file():
            sys.exit(f"hospital_locator: no CMakeLists.txt in {PROJECT}; build from a checkout of "
                     "the project (bindings/python needs the engine beside it)")
        build_dir = Path(self.build_temp).resolve() / "cmake"
        configure = ["cmake", "-S", str(PROJECT), "-B", str(build_dir),
                     "-DCMAKE_BUILD_TYPE=Release",
                     "-DHLOC_BUILD_TESTS=OFF", "-DHLOC_BUILD_BENCHMARKS=OFF",
                     "-DHLOC_BUILD_PYTHON=ON",
                     # The interpreter running this build, so the module's ABI tag is its own.
                     f"-DHLOC_PYTHON3={sys.executable}"]
        if shutil.which("ninja") and not (build_dir / "CMakeCache.txt").exists():
            configure += ["-G", "Ninja"]
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        self.spawn(configure)
        self.spawn(["cmake", "--build", str(build_dir), "--target", "hloc_python_core",
                    "-j", jobs])
        built = (build_dir / "bindings" / "python" / "hospital_locator"
                 / ("_core" + sysconfig.get_config_var("EXT_SUFFIX")))
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)


setup(ext_modules=[Extension("hospital_locator._core", sources=[])],
      cmdclass={"build_ext": CMakeBuild})
