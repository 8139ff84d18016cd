from pathlib import Path

from setuptools import find_packages, setup

ONNX = ["onnx>=1.16", "onnxruntime>=1.18", "onnxscript>=0.3"]
PLOT = ["matplotlib>=3.7"]
IMAGES = ["Pillow>=10"]
POSTGRES = ["psycopg[binary]>=3.1"]

setup(
    name="sknas",
    version="0.1.0",
    description="Neural architecture search as plain scikit-learn estimators",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["sknas", "sknas.*"]),
    python_requires=">=3.10",
    install_requires=[
        "numpy>=1.24",
        "pandas>=2.0",
        "scikit-learn>=1.6",
        "torch>=2.2",
        "torchvision>=0.17",
        "skorch>=1.0",
        "optuna>=4.9",
        "tqdm>=4.60",
        "safetensors>=0.4",
        "skops>=0.10",
        "sentencepiece>=0.2",
        "rtdl_num_embeddings>=0.0.12",
        "tabm>=0.0.3",
    ],
    extras_require={
        "onnx": ONNX,
        "plot": PLOT,
        "images": IMAGES,
        "postgres": POSTGRES,
        "docs": [
            "mkdocs>=1.6",
            "mkdocs-material>=9.5",
            "mkdocstrings[python]>=0.26",
            *PLOT,
        ],
        "bench": ["pytabkit>=1.8"],
        "test": ["pytest>=7", "pytest-xdist>=3", "ruff>=0.5", *ONNX, *PLOT, *IMAGES, *POSTGRES],
    },
    entry_points={"console_scripts": ["sknas=sknas.cli:main"]},
    license="BSD-3-Clause",
)
