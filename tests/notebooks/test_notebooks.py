"""Every notebook executes top to bottom from a clean kernel, offline (replay model clients).

Notebooks are committed without outputs: outputs hold receipt ids, timestamps and paths that
change on every run, and the test suite regenerates them; a reader runs them in Jupyter.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_the_four_demo_notebooks_exist():
    names = {p.stem for p in NOTEBOOKS}
    for expected in ("01_quickstart", "02_group_chat_persuasion", "03_receipts_and_proofs", "04_writing_policies"):
        assert expected in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{path.name}: commit notebooks without outputs"
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}  # as Jupyter would
    )
    client.execute()  # raises CellExecutionError naming the cell on the first failure
    if path.stem == "03_receipts_and_proofs":  # the decisions chart is shown, as Jupyter shows it
        images = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
                  if "image/png" in o.get("data", {})]
        assert images, "the chart of decisions per agent per turn was not displayed"
