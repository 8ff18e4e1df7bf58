"""Where things are in the repository, named once (the offline side, tools, tests and benches)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data" / "mnist"  # python -m training.fetch puts MNIST here
SHIPPED_MODEL = ROOT / "static" / "model" / "model.npz"
STATIC = ROOT / "static"
ARTIFACTS = ROOT / "artifacts"  # screenshots, plots (git-ignored)
BENCH_RESULTS = ROOT / "bench" / "results"  # benchmark JSON (git-ignored)
