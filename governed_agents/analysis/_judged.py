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
first.
"""

from __future__ import annotations

__all__ = ["JUDGED_PACKAGES", "judged_package"]


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
