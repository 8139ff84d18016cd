from setuptools import find_packages, setup

setup(
    name="sknas",
    version="0.1.0",
    description="Neural architecture search as plain scikit-learn estimators",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["sknas", "sknas.*"]),
    python_requires=">=3.10",
    install_requires=[
        "numpy>=1.24",
        "pandas>=2.0",
        "scikit-learn>=1.6",
        "torch>=2.2",
        "skorch>=1.0",
        "optuna>=4.0",
        "tqdm>=4.60",
        "safetensors>=0.4",
    ],
    extras_require={
        "test": ["pytest>=7", "ruff>=0.5"],
    },
    license="BSD-3-Clause",
)
