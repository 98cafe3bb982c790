"""Ships the prebuilt guests (guests/bin) inside the wheel as pyzkvm/guests/bin.

Everything else is declared in pyproject.toml. The ELFs stay in guests/bin, where a checkout,
the tests and the docs use them; this build step copies them into the package so that a
pip-installed pyzkvm can run ``pyzkvm prove fibonacci`` without a checkout
(pyzkvm/guests/prebuilt.py looks in both places).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PREBUILT = Path(__file__).resolve().parent / "guests" / "bin"
#: What of guests/bin is shipped: the ELFs of both ABI profiles and how they were built.
PREBUILT_FILES = ("*.elf", "BUILD_INFO", "risc0/*.elf", "risc0/BUILD_INFO")


class BuildPyWithGuests(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "pyzkvm" / "guests" / "bin"
        for pattern in PREBUILT_FILES:
            for source in PREBUILT.glob(pattern):
                dest = target / source.relative_to(PREBUILT)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, dest)


setup(cmdclass={"build_py": BuildPyWithGuests})
