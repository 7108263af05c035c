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
