"""Data libraries, found systematically: every public callable of the installed pandas, numpy,
matplotlib, PIL, scipy, seaborn and scikit-learn (those present), and every method of their main
classes, that takes a parameter named like a path, a buffer or a URL is catalogued — or judged here,
with the reason, to touch no file. Private and alias routes (pd.io.parsers.read_csv) reach the same
entries as the public names.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

from governed_agents import analyze
from governed_agents.analysis._catalogue import DUCK_METHODS, lookup

PATH_PARAMETERS = frozenset({
    "filepath_or_buffer", "path", "path_or_buf", "path_or_buffer", "fname", "file", "filename", "filenames", "fp",
    "buf", "url", "urlpath", "uri", "io", "filepath", "fid", "excel_writer", "infile", "outfile", "file_or_filename",
})
MODULES = {
    "pandas": ("pandas",),
    "numpy": ("numpy", "numpy.lib.npyio", "numpy.lib.format"),
    "matplotlib": ("matplotlib", "matplotlib.pyplot", "matplotlib.image", "matplotlib.cbook", "matplotlib.style",
                   "matplotlib.font_manager"),
    "PIL": ("PIL.Image", "PIL.ImageFont"),
    "scipy": ("scipy.io", "scipy.io.wavfile", "scipy.io.matlab"),
    "seaborn": ("seaborn",),
    "sklearn": ("sklearn.datasets",),
}
CLASSES = {
    "pandas.DataFrame": ("pandas", "DataFrame"), "pandas.Series": ("pandas", "Series"),
    "numpy.ndarray": ("numpy", "ndarray"), "matplotlib.figure.Figure": ("matplotlib.figure", "Figure"),
    "matplotlib.axes.Axes": ("matplotlib.axes", "Axes"), "PIL.Image.Image": ("PIL.Image", "Image"),
}
# Judged to touch no file, and why.
JUDGED_PURE = {
    "pandas.eval": "target= is the object assigned into",
    "numpy.interp": "fp= is the y-coordinates",
    "numpy.gradient": "f= is the array",
    "numpy.recarray": "buf= is a memory buffer",
    "numpy.lib.format.isfileobj": "a predicate on an object",
    "matplotlib.pyplot.imshow": "url= is a link written into SVG output, never fetched",
    "matplotlib.axes.Axes.imshow": "url= is a link written into SVG output, never fetched",
    "matplotlib.figure.Figure.set": "url= is a link written into SVG output",
    "matplotlib.axes.Axes.set": "url= is a link written into SVG output",
    "matplotlib.figure.Figure.set_url": "a link written into SVG output",
    "matplotlib.axes.Axes.set_url": "a link written into SVG output",
    "matplotlib.figure.Figure.set_clip_path": "path= is a geometric Path",
    "matplotlib.axes.Axes.set_clip_path": "path= is a geometric Path",
    "matplotlib.font_manager.FontEntry": "a record of a font already found",
    "PIL.Image.is_path": "a predicate on an object",
    "PIL.ImageFont.is_path": "a predicate on an object",
}


def _parameters(obj) -> set[str]:
    try:
        return set(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return set()


def _present(root: str) -> bool:
    try:
        importlib.import_module(root)
    except ImportError:
        return False
    return True


def _catalogued(qualified: str, method: str | None = None) -> bool:
    spec = lookup(qualified)
    if spec is None and method is not None:
        spec = DUCK_METHODS.get(method)
    return spec is not None and spec.kind not in ("pure", "ctor", "path_join")


@pytest.mark.parametrize("root", sorted(r for r in MODULES if _present(r)))
def test_every_callable_taking_a_path_is_catalogued(root):
    missing = []
    for module_name in MODULES[root]:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in dir(module):
            if name.startswith("_"):
                continue
            value = getattr(module, name)
            qualified = f"{module_name}.{name}"
            if callable(value) and _parameters(value) & PATH_PARAMETERS and qualified not in JUDGED_PURE \
                    and not _catalogued(qualified):
                missing.append(f"{qualified}({', '.join(sorted(_parameters(value) & PATH_PARAMETERS))})")
    assert not missing, missing


@pytest.mark.parametrize("type_name", sorted(t for t, (m, _) in CLASSES.items() if _present(m.split(".")[0])))
def test_every_method_of_a_main_class_taking_a_path_is_catalogued(type_name):
    module_name, class_name = CLASSES[type_name]
    cls = getattr(importlib.import_module(module_name), class_name)
    missing = []
    for name in dir(cls):
        if name.startswith("_"):
            continue
        value = getattr(cls, name, None)
        qualified = f"{type_name}.{name}"
        if callable(value) and _parameters(value) & PATH_PARAMETERS and qualified not in JUDGED_PURE \
                and not _catalogued(qualified, name):
            missing.append(qualified)
    assert not missing, missing


@pytest.mark.parametrize("root", sorted(r for r in ("pandas", "numpy", "matplotlib") if _present(r)))
def test_private_routes_reach_the_public_entries(root):
    """Where a catalogued function is defined (pandas.read_csv in pandas.io.parsers.readers) is the
    same entry under that name."""
    from governed_agents.analysis._catalogue import all_specs

    checked = 0
    for qualified, spec in all_specs().items():
        if not qualified.startswith(root + ".") or qualified.endswith("*"):
            continue
        module_name, _, name = qualified.rpartition(".")
        try:
            value = getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError):
            continue
        try:  # the module that defines it (pandas sets __module__ = "pandas" on its public API)
            home = getattr(inspect.unwrap(value), "__globals__", {}).get("__name__")
        except ValueError:
            continue
        if not isinstance(home, str) or home == module_name or not home.startswith(root):
            continue
        checked += 1
        assert lookup(f"{home}.{name}") == spec, f"{home}.{name} is not {qualified}"
    assert checked


@pytest.mark.parametrize(
    "code",
    [
        "import pandas as pd\npd.io.parsers.read_csv('/etc/passwd')",
        "import pandas as pd\npd.io.parsers.readers.read_csv('/etc/passwd')",
        "import pandas as pd\npd.core.frame.DataFrame.to_csv(df, '/tmp/out.csv')",
        "import pandas as pd\npd.DataFrame.to_csv(df, '/tmp/out.csv')",
        "from pandas.io.parsers import read_csv\nread_csv('/etc/shadow')",
        "import numpy as np\nnp.lib.npyio.loadtxt('/etc/passwd')",
        "import numpy as np\nnp.zeros(3).dump('/tmp/a.pkl')",
    ],
)
def test_alias_routes_are_file_operations_outside_allowed_paths(code):
    ir = analyze(code)
    assert any(o.type == "file_operation" and o.paths and o.paths[0] and not o.paths[0].startswith("/data/analysis")
               for o in ir.operations), ir.operations
