import sys
from pathlib import Path

# The operator's helpers ship in plugins/, which MWAA puts on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "plugins"))
