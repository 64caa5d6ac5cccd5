"""The waveform checker's compiled kernels; everything else about the package is in pyproject.toml.

Optional: without a C compiler the package installs without them and the checks take their numpy
paths, alike in results and slower.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "hil.waveform._kernels",
            ["hil/waveform/_kernels.c"],
            extra_compile_args=["-O3", "-fopenmp-simd", "-fno-math-errno"],
            optional=True,
        )
    ]
)
