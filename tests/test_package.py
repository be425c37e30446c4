"""The package installs on its own: a wheel with the review grid's files and
the sample as package data, the `taiyaku` command working from any folder."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(ROOT)], check=True, capture_output=True, timeout=600)
    (path,) = out.glob("taiyaku-*.whl")
    return path


def test_the_wheel_holds_the_package_its_data_and_the_console_script(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("align/app.py", "align/review_grid/grid.js", "align/review_grid/grid.css",
                   "align/data/ukraine_talks_bloomberg_ja.txt", "align/data/favicon.png"):
        assert needed in names
    assert not any(n.startswith(("tests/", "scripts/", "data/")) for n in names)
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    requires = [line for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    assert not any("torch" in r and "extra" not in r for r in requires)  # lean: torch only in [models]
    assert any("torch" in r and 'extra == "models"' in r for r in requires)
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "taiyaku = align.__main__:main" in entry


def test_installed_it_runs_from_any_folder(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    pip = venv / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", "--no-deps", str(wheel)], check=True, timeout=300)
    out = subprocess.run([str(venv / "bin" / "python"), "-c",
                          "import align, align.projects as p; print(align.__file__); print(p.SAMPLE.exists())"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    where, exists = out.stdout.split()
    assert str(venv) in where and exists == "True"
    help_text = subprocess.run([str(venv / "bin" / "taiyaku"), "--help"], cwd=tmp_path,
                               capture_output=True, text=True, timeout=300).stdout
    for command in ("align", "evaluate", "export", "app"):
        assert command in help_text
