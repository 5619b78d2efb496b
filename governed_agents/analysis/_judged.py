"""Third-party packages judged to compute: their names the catalogue does not list are pure.

A third-party package is in one of three worlds. One that exists to reach outside (``_outside``)
gives an uncatalogued name its default effect. One listed here was judged: its routes outside —
files, network, processes, dynamic code — are catalogued (``numpy.load``, ``pandas.read_csv``,
``torch.hub.*``) or are methods the catalogue knows on any object (``to_csv``, ``save``, ``write``),
and its other names compute in memory. Any other package — one nobody judged, the code's own
modules, a relative import — is unknown: importing it and each of its names are unknown operations,
outside every allow-list, unless a policy's ``pure_packages`` vouches for it.

Looked up by dotted prefix, so a judged package's submodule is judged too; an outside-reaching
submodule of a judged package (``aiohttp.web``, a server) is listed in ``_outside`` and found there
first. What a package keeps for itself was not judged with it: a private name or module
(``matplotlib.cbook._get_executable_info`` runs a program) and its tooling — test helpers, command
lines, build and compile steps (``numpy.testing.extbuild`` compiles and imports C,
``matplotlib.testing.subprocess_run_for_testing`` runs any command) — are unknown, but for the
``assert_*`` checks of a ``testing`` module.
"""

from __future__ import annotations

__all__ = ["JUDGED_PACKAGES", "judged_package", "tooling_name"]


def _names(text: str) -> list[str]:
    return text.split()


JUDGED_PACKAGES: frozenset[str] = frozenset(_names(
    # arrays, frames, science and learning: readers, writers and downloaders are catalogued
    "numpy pandas polars pyarrow scipy sklearn skimage statsmodels xarray zarr h5py tables netCDF4 geopandas "
    "shapely sympy networkx torch torchvision torchtext tensorflow keras spacy nltk joblib "
    # plots, images, sound, documents and formats
    "matplotlib seaborn plotly PIL imageio cv2 librosa soundfile lxml bs4 openpyxl xlsxwriter xlrd docx fitz "
    "pypdf PyPDF2 yaml toml tomli configobj "
    # HTTP clients and SQL toolkits: every request and engine is catalogued; their exceptions, auth,
    # status names and query builders are pure
    "requests httpx urllib3 aiohttp sqlalchemy "
    # small libraries of pure functions
    "tqdm pytz dateutil tabulate attr attrs more_itertools toolz cytoolz regex colorama termcolor humanize "
    "packaging idna six typing_extensions pydantic cachetools sortedcontainers natsort inflect unidecode emoji "
    "rapidfuzz Levenshtein jellyfish orjson ujson simplejson msgpack cryptography jwt tenacity wrapt decorator "
    "frozendict multidict yarl chardet charset_normalizer"
))


def judged_package(module: str) -> bool:
    """``module`` is, or lies within, a package judged to compute."""
    parts = module.split(".")
    return any(".".join(parts[:i]) in JUDGED_PACKAGES for i in range(1, len(parts) + 1))


# components naming a package's tooling rather than its computation
_TOOLING = frozenset(_names(
    "testing tests conftest cli commands distutils f2py extbuild cpp_extension autowrap codegen hub "
    "downloader download installer setup build compiler"
))


def _private(component: str) -> bool:
    return component.startswith("_") and not (component.startswith("__") and component.endswith("__"))


def tooling_name(qualified: str) -> bool:
    """``qualified``, a name within a judged package, is one the package keeps for itself or its tooling."""
    parts = qualified.split(".")
    if not judged_package(parts[0]) or len(parts) < 2:
        return False
    if len(parts) > 2 and parts[-2] == "testing" and parts[-1].startswith("assert_"):
        parts = parts[:-2]  # numpy.testing.assert_allclose: a check of a result
    return any(_private(c) or c in _TOOLING for c in parts[1:])
