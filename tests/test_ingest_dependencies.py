"""A test dependency that is missing fails the tests that need it, loudly: it is never skipped."""

import os
import subprocess
import sys

from .conftest import ROOT


def test_the_pdf_tests_fail_without_reportlab(tmp_path):
    hidden = tmp_path / "reportlab"
    hidden.mkdir()
    missing = "raise ModuleNotFoundError(\"No module named 'reportlab' (hidden)\", name='reportlab')\n"
    (hidden / "__init__.py").write_text(missing, encoding="utf-8")
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_ingest_pdf.py"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0, done.stdout
    assert "No module named 'reportlab' (hidden)" in done.stdout and "skipped" not in done.stdout


def test_the_ocr_tests_fail_without_tesseract_saying_how_to_add_it(tmp_path):
    env = os.environ | {"PATH": str(tmp_path)}  # no tesseract on it
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_ingest_ocr.py"]
    command += ["-k", "a_scanned_pdf_is_read_by_ocr"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0, done.stdout
    assert "these tests need tesseract: OCR is not installed (apt-get install tesseract-ocr" in done.stdout
    assert "skipped" not in done.stdout
