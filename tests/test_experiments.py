"""The runs not kept (training/experiments/): each patch the README points to still applies to
the code as it is, so "git apply" retraces the run it describes."""

import subprocess

import pytest

from tools.paths import ROOT

PATCHES = sorted((ROOT / "training" / "experiments").glob("*.patch"))


def test_the_readme_names_every_patch():
    readme = (ROOT / "README.md").read_text()
    assert [p.name for p in PATCHES] == ["inner-marks.patch", "pictures.patch"]
    assert all(f"training/experiments/{p.name}" in readme for p in PATCHES)


@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: p.name)
def test_patch_applies_to_the_code_as_it_is(patch):
    done = subprocess.run(["git", "apply", "--check", str(patch)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"{patch.name} no longer applies: {done.stderr}"
