"""Taiyaku (対訳) review app: `streamlit run app.py` from the repository's folder
(installed: `taiyaku app`). The page itself is align/app.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # a checkout, not installed

from align.app import run  # noqa: E402

run()
