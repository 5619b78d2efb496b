"""What APIs do, as data: qualified name → effect spec. One table; the walker has no if-chains.

A spec says which operation a call performs (``pure``: none, for a harmless name under a prefix
entry such as ``platform.python_version`` under ``platform.*``) and which argument carries the
value that matters (``arg`` = positional index, ``kw`` = keyword name). ``returns`` names the abstract type of the
call's result, so that methods on it can be looked up as ``"<type>.<method>"`` (``open(...)`` →
``builtins.file``; ``pathlib.Path(...)`` → ``pathlib.Path``). Entries ending in ``.*`` cover every
name below that prefix.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import importlib.machinery
import os
import sys
from dataclasses import dataclass
from typing import Any, Literal, get_args

from governed_agents.analysis import _closed
from governed_agents.analysis._judged import judged_package, tooling_name
from governed_agents.analysis._outside import outside_default
from governed_agents.ir import DynamicCodeKind, SystemEffect

__all__ = ["CATALOGUED_ATTRIBUTES", "DUCK_METHODS", "KNOWN_MODULES", "MODULE_ESCAPES", "OPS_BY_KIND", "OWN_SUBMODULES", "PURE_SPEC",
           "UNKNOWN_SPEC", "Kind", "Op", "Spec", "all_specs", "known", "lookup", "module_attribute"]

Kind = Literal["file", "open", "net", "proc", "env", "db", "dyn", "effect", "import", "getattr", "ctor",
               "path_join", "pure", "unknown"]
Op = Literal["", "read", "write", "delete", "select_table", "insert", DynamicCodeKind, SystemEffect]
# The ops each kind takes: a spec outside these is a catalogue error (tests/analysis/test_catalogue.py).
OPS_BY_KIND: dict[str, frozenset[str]] = {
    "file": frozenset({"read", "write", "delete"}),
    "env": frozenset({"read", "write"}),
    "db": frozenset({"", "select_table", "insert"}),
    "dyn": frozenset(get_args(DynamicCodeKind)),
    "effect": frozenset(get_args(SystemEffect)),
    **{k: frozenset({""}) for k in ("open", "net", "proc", "import", "getattr", "ctor", "path_join", "pure",
                                     "unknown")},
}


@dataclass(frozen=True)
class Spec:
    kind: Kind
    op: Op = ""  # file: read/write/delete; env: read/write; dyn: kind; effect: effect name
    arg: int | None = 0  # which positional argument carries the value (path/url/command/name/sql)
    kw: str | None = None  # ... or which keyword
    returns: str | None = None  # abstract type of the result
    also: tuple[Spec, ...] = ()  # further operations the same call performs
    value_from: str = ""  # "self": the value (path/url) lives on the receiver; "handle": the argument
    # is a file object (one opened in this code was reported where it was opened)
    optional: bool = False  # without the argument the call touches nothing (df.to_json() returns text)
    default: str | None = None  # the value when the argument is absent (extractall() writes to ".")
    safe_with: tuple[str, ...] = ()  # dyn: the argument naming one of these makes the call safe;
    # file: the value that names no file (sqlite3.connect(":memory:"))


def _s(kind: Kind, op: Op = "", arg: int | None = 0, kw: str | None = None, **extra: Any) -> Spec:
    return Spec(kind, op, arg, kw, **extra)


READ: Literal["read"] = "read"
WRITE: Literal["write"] = "write"
DELETE: Literal["delete"] = "delete"
SELF: dict[str, Any] = {"arg": None, "value_from": "self"}

_FILE: dict[str, Spec] = {
    # builtins and io
    "open": _s("open", kw="file", returns="builtins.file"),
    "io.open": _s("open", kw="file", returns="builtins.file"),
    "io.FileIO": _s("open", kw="file", returns="builtins.file"),
    "_io.open": _s("open", kw="file", returns="builtins.file"),
    "_io.FileIO": _s("open", kw="file", returns="builtins.file"),
    "codecs.open": _s("open", kw="filename", returns="builtins.file"),
    **{f"{m}.{f}": _s("open", kw="filename", returns="builtins.file") for m, f in (
        ("gzip", "open"), ("gzip", "GzipFile"), ("bz2", "open"), ("bz2", "BZ2File"), ("lzma", "open"),
        ("lzma", "LZMAFile"))},
    "os.open": _s("open", kw="path"),
    "os.fdopen": _s("open", arg=None),
    # os / os.path / shutil / glob / tempfile
    "os.remove": _s("file", DELETE, kw="path"),
    "os.unlink": _s("file", DELETE, kw="path"),
    "os.rmdir": _s("file", DELETE, kw="path"),
    "os.removedirs": _s("file", DELETE, kw="name"),
    "os.truncate": _s("file", WRITE, kw="path"),
    "os.rename": _s("file", DELETE, kw="src", also=(_s("file", WRITE, arg=1, kw="dst"),)),
    "os.renames": _s("file", DELETE, kw="old", also=(_s("file", WRITE, arg=1, kw="new"),)),
    "os.replace": _s("file", DELETE, kw="src", also=(_s("file", WRITE, arg=1, kw="dst"),)),
    "os.mkdir": _s("file", WRITE, kw="path"),
    "os.makedirs": _s("file", WRITE, kw="name"),
    "os.mkfifo": _s("file", WRITE, kw="path"),
    "os.mknod": _s("file", WRITE, kw="path"),
    "os.link": _s("file", READ, kw="src", also=(_s("file", WRITE, arg=1, kw="dst"),)),
    "os.symlink": _s("file", READ, kw="src", also=(_s("file", WRITE, arg=1, kw="dst"),)),
    "os.utime": _s("file", WRITE, kw="path"),
    "os.listdir": _s("file", READ, kw="path"),
    "os.scandir": _s("file", READ, kw="path"),
    "os.walk": _s("file", READ, kw="top"),
    "os.fwalk": _s("file", READ, kw="top"),
    "os.readlink": _s("file", READ, kw="path"),
    "os.stat": _s("file", READ, kw="path"),
    "os.lstat": _s("file", READ, kw="path"),
    "os.access": _s("file", READ, kw="path"),
    "os.chdir": _s("file", READ, kw="path"),
    "os.path.getsize": _s("file", READ, kw="filename"),
    "os.path.getmtime": _s("file", READ, kw="filename"),
    "shutil.copy": _s("file", READ, kw="src", also=(_s("file", WRITE, arg=1, kw="dst"),)),
    "shutil.copy2": _s("file", READ, kw="src", also=(_s("file", WRITE, arg=1, kw="dst"),)),
    "shutil.copyfile": _s("file", READ, kw="src", also=(_s("file", WRITE, arg=1, kw="dst"),)),
    "shutil.copytree": _s("file", READ, kw="src", also=(_s("file", WRITE, arg=1, kw="dst"),)),
    "shutil.copymode": _s("file", READ, kw="src", also=(_s("file", WRITE, arg=1, kw="dst"),)),
    "shutil.copystat": _s("file", READ, kw="src", also=(_s("file", WRITE, arg=1, kw="dst"),)),
    "shutil.copyfileobj": _s("file", READ, kw="fsrc", value_from="handle",
                             also=(_s("file", WRITE, arg=1, kw="fdst", value_from="handle"),)),
    "shutil.move": _s("file", DELETE, kw="src", also=(_s("file", WRITE, arg=1, kw="dst"),)),
    "shutil.rmtree": _s("file", DELETE, kw="path"),
    "shutil.make_archive": _s("file", WRITE, kw="base_name", also=(_s("file", READ, arg=2, kw="root_dir"),)),
    "shutil.unpack_archive": _s("file", READ, kw="filename", also=(_s("file", WRITE, arg=1, kw="extract_dir"),)),
    "shutil.disk_usage": _s("effect", "system_info", arg=None),
    "glob.glob": _s("file", READ, kw="pathname"),
    "glob.iglob": _s("file", READ, kw="pathname"),
    "fnmatch.filter": _s("file", READ, arg=None),
    "tempfile.mkstemp": _s("file", WRITE, arg=None),
    "tempfile.mkdtemp": _s("file", WRITE, arg=None),
    "tempfile.NamedTemporaryFile": _s("file", WRITE, arg=None, returns="builtins.file"),
    "tempfile.TemporaryFile": _s("file", WRITE, arg=None, returns="builtins.file"),
    "linecache.getline": _s("file", READ, kw="filename"),
    "configparser.ConfigParser": _s("ctor", arg=None, returns="configparser.ConfigParser"),
    "configparser.RawConfigParser": _s("ctor", arg=None, returns="configparser.ConfigParser"),
    "configparser.ConfigParser.read": _s("file", READ, kw="filenames"),
    "logging.FileHandler": _s("file", WRITE, kw="filename"),
    **{f"logging.handlers.{h}": _s("file", WRITE, kw="filename")
       for h in ("RotatingFileHandler", "TimedRotatingFileHandler", "WatchedFileHandler")},
    "logging.basicConfig": _s("file", WRITE, arg=None, kw="filename", optional=True),
    "fileinput.input": _s("file", READ, kw="files"),
    "zipfile.ZipFile": _s("open", kw="file", returns="zipfile.ZipFile"),
    "zipfile.ZipFile.extractall": _s("file", WRITE, kw="path", default="."),
    "zipfile.ZipFile.extract": _s("file", WRITE, arg=1, kw="path", default="."),
    "tarfile.open": _s("open", kw="name", returns="tarfile.TarFile"),
    "tarfile.TarFile": _s("open", kw="name", returns="tarfile.TarFile"),
    "tarfile.TarFile.extractall": _s("file", WRITE, kw="path", default="."),
    "tarfile.TarFile.extract": _s("file", WRITE, arg=1, kw="path", default="."),
    "csv.reader": _s("file", READ, kw="csvfile", value_from="handle"),
    # pathlib: the constructor carries the path; methods use it
    "pathlib.Path": _s("ctor", returns="pathlib.Path"),
    "pathlib.PosixPath": _s("ctor", returns="pathlib.Path"),
    "pathlib.PurePath": _s("ctor", returns="pathlib.Path"),
    "pathlib.Path.home": _s("ctor", arg=None, returns="pathlib.Path"),
    "pathlib.Path.cwd": _s("ctor", arg=None, returns="pathlib.Path"),
    "pathlib.Path.read_text": _s("file", READ, **SELF),
    "pathlib.Path.read_bytes": _s("file", READ, **SELF),
    "pathlib.Path.open": _s("open", **SELF, returns="builtins.file"),
    "pathlib.Path.iterdir": _s("file", READ, **SELF),
    "pathlib.Path.glob": _s("file", READ, **SELF),
    "pathlib.Path.rglob": _s("file", READ, **SELF),
    "pathlib.Path.stat": _s("file", READ, **SELF),
    "pathlib.Path.write_text": _s("file", WRITE, **SELF),
    "pathlib.Path.write_bytes": _s("file", WRITE, **SELF),
    "pathlib.Path.touch": _s("file", WRITE, **SELF),
    "pathlib.Path.mkdir": _s("file", WRITE, **SELF),
    "pathlib.Path.unlink": _s("file", DELETE, **SELF),
    "pathlib.Path.rmdir": _s("file", DELETE, **SELF),
    "pathlib.Path.rename": _s("file", DELETE, **SELF, also=(_s("file", WRITE, arg=0, kw="target"),)),
    "pathlib.Path.replace": _s("file", DELETE, **SELF, also=(_s("file", WRITE, arg=0, kw="target"),)),
    "pathlib.Path.chmod": _s("effect", "privilege", **SELF),
    "pathlib.Path.symlink_to": _s("file", WRITE, **SELF),
    # os.path folding
    "os.path.join": _s("path_join", arg=None),
    "os.path.abspath": _s("path_join", arg=None),
    "os.path.normpath": _s("path_join", arg=None),
    "os.path.realpath": _s("path_join", arg=None),
    "os.path.expanduser": _s("path_join", arg=None),
    # in-memory buffers: handed to a reader or writer, they touch no file
    **{f"{m}.{c}": _s("ctor", arg=None, returns="builtins.memory") for m in ("io", "_io") for c in ("StringIO", "BytesIO")},
    # print(file=...) writes to the handle
    "print": _s("file", WRITE, arg=None, kw="file", value_from="handle"),
}

_DATA: dict[str, Spec] = {
    **{f"pandas.read_{n}": _s("file", READ, kw=k, returns="pandas.DataFrame")
       for n, k in (("csv", "filepath_or_buffer"), ("table", "filepath_or_buffer"), ("fwf", "filepath_or_buffer"),
                    ("json", "path_or_buf"), ("excel", "io"), ("parquet", "path"), ("feather", "path"),
                    ("hdf", "path_or_buf"), ("html", "io"), ("xml", "path_or_buffer"), ("orc", "path"),
                    ("sas", "filepath_or_buffer"), ("spss", "path"), ("stata", "filepath_or_buffer"))},
    "pandas.read_pickle": _s("file", READ, kw="filepath_or_buffer",
                             also=(_s("dyn", "deserialization", arg=None),)),
    "pandas.read_sql": _s("db", kw="sql"),
    "pandas.read_sql_query": _s("db", kw="sql"),
    "pandas.read_sql_table": _s("db", kw="table_name", op="select_table"),
    "pandas.DataFrame": _s("ctor", arg=None, returns="pandas.DataFrame"),
    "pandas.Series": _s("ctor", arg=None, returns="pandas.DataFrame"),
    "numpy.load": _s("file", READ, kw="file"),  # allow_pickle is checked by the walker
    "numpy.loadtxt": _s("file", READ, kw="fname"),
    "numpy.genfromtxt": _s("file", READ, kw="fname"),
    "numpy.fromfile": _s("file", READ, kw="file"),
    # xml parsers and other stdlib readers of a path (or, for the SAX-based ones, a URL)
    "xml.etree.ElementTree.parse": _s("file", READ, kw="source"),
    "xml.etree.ElementTree.iterparse": _s("file", READ, kw="source"),
    "xml.dom.minidom.parse": _s("file", READ, kw="file"),
    "xml.dom.pulldom.parse": _s("file", READ, kw="stream_or_string"),
    "xml.sax.parse": _s("file", READ, kw="source"),
    "mimetypes.read_mime_types": _s("file", READ, kw="file"),
    "netrc.netrc": _s("file", READ, kw="file"),
    "numpy.memmap": _s("file", READ, kw="filename"),
    "numpy.save": _s("file", WRITE, kw="file"),
    "numpy.savez": _s("file", WRITE, kw="file"),
    "numpy.savez_compressed": _s("file", WRITE, kw="file"),
    "numpy.savetxt": _s("file", WRITE, kw="fname"),
    "numpy.ctypeslib.*": _s("dyn", "native_code", arg=None),
    "numpy.fromregex": _s("file", READ, kw="file"),
    "numpy.DataSource": _s("ctor", arg=None, returns="numpy.DataSource"),
    "numpy.DataSource.open": _s("file", READ, kw="path"),  # a URL is fetched
    "numpy.DataSource.exists": _s("file", READ, kw="path"),
    "numpy.DataSource.abspath": _s("path_join", arg=None),
    "numpy.lib.npyio.NpzFile": _s("file", READ, kw="fid"),
    "numpy.lib.format.open_memmap": _s("file", READ, kw="filename", also=(_s("file", WRITE, kw="filename"),)),
    **{f"numpy.lib.format.{f}": _s("file", READ, kw="fp", value_from="handle") for f in (
        "read_array", "read_magic", "read_array_header_1_0", "read_array_header_2_0")},
    **{f"numpy.lib.format.{f}": _s("file", WRITE, kw="fp", value_from="handle") for f in (
        "write_array", "write_array_header_1_0", "write_array_header_2_0")},
    "numpy.ndarray.dump": _s("file", WRITE, kw="file"),
    "numpy.ndarray.tofile": _s("file", WRITE, kw="fid"),
    "pandas.ExcelFile": _s("file", READ, kw="path_or_buffer"),
    "pandas.ExcelWriter": _s("file", WRITE, kw="path"),
    "pandas.HDFStore": _s("file", READ, kw="path", also=(_s("file", WRITE, kw="path"),)),
    "pandas.to_pickle": _s("file", WRITE, arg=1, kw="filepath_or_buffer"),
    "pandas.DataFrame.info": _s("file", WRITE, arg=None, kw="buf", optional=True),
    "pandas.DataFrame.to_string": _s("file", WRITE, kw="buf", optional=True),
    "pandas.Series.info": _s("file", WRITE, arg=None, kw="buf", optional=True),
    "pandas.Series.to_string": _s("file", WRITE, kw="buf", optional=True),
    "matplotlib.rc_file": _s("file", READ, kw="fname"),
    "matplotlib.rc_params_from_file": _s("file", READ, kw="fname"),
    "matplotlib.style.rc_params_from_file": _s("file", READ, kw="fname"),
    "matplotlib.rc_context": _s("file", READ, arg=1, kw="fname", optional=True),
    "matplotlib.image.thumbnail": _s("file", READ, kw="infile", also=(_s("file", WRITE, arg=1, kw="thumbfile"),)),
    "matplotlib.cbook.get_sample_data": _s("file", READ, kw="fname"),
    "matplotlib.cbook.to_filehandle": _s("open", kw="fname", returns="builtins.file"),
    "matplotlib.font_manager.FontProperties": _s("file", READ, arg=None, kw="fname", optional=True),
    "matplotlib.font_manager.FontPath": _s("file", READ, kw="path"),
    "matplotlib.font_manager.is_opentype_cff_font": _s("file", READ, kw="filename"),
    "matplotlib.font_manager.json_load": _s("file", READ, kw="filename"),
    "matplotlib.font_manager.json_dump": _s("file", WRITE, arg=1, kw="filename"),
    "matplotlib.font_manager.FontManager.addfont": _s("file", READ, kw="path"),
    "matplotlib.animation.Animation.save": _s("file", WRITE, kw="filename"),
    "PIL.Image.Image.save": _s("file", WRITE, kw="fp"),
    **{f"PIL.ImageFont.{f}": _s("file", READ, kw="filename") for f in ("load", "load_path")},
    "PIL.ImageFont.truetype": _s("file", READ, kw="font"),
    # other data libraries, by their documented entry points
    **{f"cv2.{f}": _s("file", READ, kw="filename") for f in ("imread", "imreadmulti", "VideoCapture_file")},
    "cv2.imwrite": _s("file", WRITE, kw="filename"),
    "cv2.VideoWriter": _s("file", WRITE, kw="filename"),
    **{f"{m}.{f}": _s("file", READ, kw="uri") for m in ("imageio", "imageio.v2", "imageio.v3")
       for f in ("imread", "mimread", "volread", "get_reader", "imiter", "improps", "immeta")},
    **{f"{m}.{f}": _s("file", WRITE, kw="uri") for m in ("imageio", "imageio.v2", "imageio.v3")
       for f in ("imwrite", "mimwrite", "volwrite", "get_writer", "mimsave", "imsave")},
    "skimage.io.imread": _s("file", READ, kw="fname"),
    "skimage.io.imsave": _s("file", WRITE, kw="fname"),
    "h5py.File": _s("open", kw="name"),
    **{f"scipy.io.{f}": _s("file", READ, kw="file_name" if f == "loadmat" else "source") for f in (
        "loadmat", "mmread", "readsav", "netcdf_file", "FortranFile")},
    **{f"scipy.io.{f}": _s("file", WRITE, kw="file_name" if f == "savemat" else "target") for f in (
        "savemat", "mmwrite")},
    "scipy.io.wavfile.read": _s("file", READ, kw="filename"),
    "scipy.io.wavfile.write": _s("file", WRITE, kw="filename"),
    **{f"pyarrow.parquet.{f}": _s("file", READ, kw="source") for f in ("read_table", "ParquetFile", "read_metadata",
                                                                         "read_schema", "ParquetDataset")},
    "pyarrow.parquet.write_table": _s("file", WRITE, arg=1, kw="where"),
    "pyarrow.csv.read_csv": _s("file", READ, kw="input_file"),
    "pyarrow.csv.write_csv": _s("file", WRITE, arg=1, kw="output_file"),
    "pyarrow.feather.read_feather": _s("file", READ, kw="source"),
    "pyarrow.feather.write_feather": _s("file", WRITE, arg=1, kw="dest"),
    **{f"polars.{f}": _s("file", READ, kw="source") for f in (
        "read_csv", "read_parquet", "read_json", "read_ndjson", "read_excel", "read_ipc", "read_avro",
        "scan_csv", "scan_parquet", "scan_ndjson", "scan_ipc", "read_database_uri", "read_delta", "scan_delta")},
    "openpyxl.load_workbook": _s("file", READ, kw="filename"),
    "xlsxwriter.Workbook": _s("file", WRITE, kw="filename"),
    **{f"lxml.{m}.parse": _s("file", READ, kw="source") for m in ("etree", "html", "objectify")},
    "lxml.etree.iterparse": _s("file", READ, kw="source"),
    "lxml.etree.ElementTree.write": _s("file", WRITE, kw="file"),
    "toml.load": _s("file", READ, kw="f"),
    "toml.dump": _s("file", WRITE, arg=1, kw="f", value_from="handle"),
    "configobj.ConfigObj": _s("file", READ, kw="infile"),
    "dotenv.dotenv_values": _s("file", READ, kw="dotenv_path"),
    **{f"{k}.models.load_model": _s("file", READ, kw="filepath",
                                    also=(_s("dyn", "deserialization", arg=None),))
       for k in ("keras", "tensorflow.keras")},
    **{f"{k}.saving.load_model": _s("file", READ, kw="filepath", also=(_s("dyn", "deserialization", arg=None),))
       for k in ("keras", "tensorflow.keras")},
    "tensorflow.saved_model.load": _s("file", READ, kw="export_dir", also=(_s("dyn", "deserialization", arg=None),)),
    **{f"statsmodels.{m}.datasets.get_rdataset": _s("net", arg=None) for m in ("api", "datasets")[:1]},
    "statsmodels.datasets.get_rdataset": _s("net", arg=None),
    # pickles read back: statsmodels' load and results' load, networkx's gpickle (2.x)
    **{name: _s("file", READ, kw="fname", also=(_s("dyn", "deserialization", arg=None),))
       for name in ("statsmodels.api.load", "statsmodels.iolib.smpickle.load_pickle", "statsmodels.iolib.load_pickle",
                    "statsmodels.base.wrapper.ResultsWrapper.load", "statsmodels.base.model.Results.load")},
    **{name: _s("file", READ, kw="path", also=(_s("dyn", "deserialization", arg=None),))
       for name in ("networkx.read_gpickle", "networkx.readwrite.gpickle.read_gpickle")},
    **{name: _s("file", WRITE, arg=1, kw="path") for name in ("networkx.write_gpickle",
                                                              "networkx.readwrite.gpickle.write_gpickle")},
    # an interactive session: it runs what it reads
    **{name: _s("dyn", "exec", arg=None) for name in ("sympy.init_session", "sympy.interactive.session.*")},
    "dateutil.tz.tzfile": _s("file", READ, kw="fileobj"),
    "get_ipython": _s("ctor", arg=None, returns="IPython.InteractiveShell"),  # in a Jupyter kernel
    # model hubs: a download, and code from the hub run here (torch.hub runs the repository's hubconf)
    "torch.hub.*": _s("net", arg=None, also=(_s("dyn", "dynamic_import", arg=None),)),
    "spacy.cli.*": _s("proc", arg=None),  # spacy.cli.download runs pip
    "spacy.load": _s("pure"),  # a package's name is imported, a path read: judged by _special._spacy_load
    # numpy's masked arrays pickle to and from files
    "numpy.ma.dump": _s("file", WRITE, arg=1, kw="F", also=(_s("dyn", "deserialization", arg=None),)),
    "numpy.ma.load": _s("file", READ, kw="F", also=(_s("dyn", "deserialization", arg=None),)),
    "numpy.ma.loads": _s("dyn", "deserialization", arg=None),
    # scipy and scikit-learn file formats; scipy.datasets downloads (pooch) into a cache
    "scipy.io.arff.loadarff": _s("file", READ, kw="f"),
    "scipy.io.FortranFile": _s("open", kw="filename"),
    "scipy.sparse.save_npz": _s("file", WRITE, kw="file"),
    "scipy.sparse.load_npz": _s("file", READ, kw="file"),
    "scipy.datasets.*": _s("net", arg=None, also=(_s("file", WRITE, arg=None),)),
    "sklearn.datasets.load_svmlight_file": _s("file", READ, kw="f"),
    "sklearn.datasets.load_svmlight_files": _s("file", READ, kw="files"),
    "sklearn.datasets.dump_svmlight_file": _s("file", WRITE, arg=2, kw="f"),
    # zarr stores are directories
    **{f"zarr.{f}": _s("open", kw="store") for f in ("open", "open_array", "open_group", "open_consolidated")},
    **{f"zarr.{f}": _s("file", WRITE, kw="store") for f in ("save", "save_array", "save_group")},
    "zarr.load": _s("file", READ, kw="store"),
    # duckdb opens a database file as sqlite3 does, and its SQL reads and writes files by name:
    # _special._duckdb_connect, _sql.sql_files
    "duckdb.connect": _s("ctor", kw="database", returns="duckdb.DuckDBPyConnection"),
    **{f"duckdb.{f}": _s("db", kw="query") for f in ("sql", "query", "execute")},
    **{f"duckdb.DuckDBPyConnection.{f}": _s("db", kw="query") for f in ("sql", "query", "execute")},
    **{f"duckdb.{f}": _s("file", READ, kw="path_or_buffer") for f in (
        "read_csv", "read_parquet", "read_json", "from_csv_auto", "from_parquet")},
    # an engine for a database URL: a file for sqlite, a server otherwise (_special._engine_url)
    "sqlalchemy.create_engine": _s("ctor", kw="url", returns="sqlalchemy.engine.Engine"),
    # a web application is built without any I/O; serving it listens on a port
    "flask.Flask": _s("ctor", arg=None, returns="flask.Flask"),
    "flask.Flask.run": _s("net", kw="host", default="127.0.0.1"),
    "werkzeug.serving.run_simple": _s("net", kw="hostname"),
    "xlrd.open_workbook": _s("file", READ, kw="filename"),
    "docx.Document": _s("file", READ, kw="docx", optional=True),
    **{f"{m}.{c}": _s("file", READ, kw="stream") for m in ("PyPDF2", "pypdf") for c in ("PdfReader", "PdfFileReader")},
    "fitz.open": _s("file", READ, kw="filename", optional=True),
    "soundfile.read": _s("file", READ, kw="file"),
    "soundfile.write": _s("file", WRITE, kw="file"),
    "librosa.load": _s("file", READ, kw="path"),
    "torch.save": _s("file", WRITE, arg=1, kw="f"),
    "joblib.dump": _s("file", WRITE, arg=1, kw="filename"),
    "tables.open_file": _s("open", kw="filename"),
    "netCDF4.Dataset": _s("open", kw="filename"),
    "xarray.open_dataset": _s("file", READ, kw="filename_or_obj"),
    "xarray.open_mfdataset": _s("file", READ, kw="paths"),
    "geopandas.read_file": _s("file", READ, kw="filename"),
    "matplotlib.pyplot.savefig": _s("file", WRITE, kw="fname"),
    **{f"matplotlib.backends.backend_{b}.PdfPages": _s("file", WRITE, kw="filename") for b in ("pdf", "pgf")},
    # a style named by path or URL is read from there: _special._style_files
    **{f"{m}.{f}": _s("pure") for m in ("matplotlib.style", "matplotlib.pyplot.style", "matplotlib.style.core")
       for f in ("use", "context")},
    "matplotlib.pyplot.imsave": _s("file", WRITE, kw="fname"),
    "matplotlib.pyplot.imread": _s("file", READ, kw="fname"),
    "matplotlib.image.imread": _s("file", READ, kw="fname"),
    "matplotlib.image.imsave": _s("file", WRITE, kw="fname"),
    "PIL.Image.open": _s("file", READ, kw="fp"),
    "json.load": _s("file", READ, kw="fp", value_from="handle"),
    "json.dump": _s("file", WRITE, arg=1, kw="fp", value_from="handle"),
    # the file it opens (read-write, created when missing, or read-only through a URI) is worked out
    # from the database and uri arguments together: _special._sqlite_connect
    "sqlite3.connect": _s("ctor", kw="database", returns="sqlite3.Connection"),
    "sqlite3.dbapi2.connect": _s("ctor", kw="database", returns="sqlite3.Connection"),
    "sqlalchemy.text": _s("ctor", kw="text", returns="builtins.str"),  # the SQL travels on to execute()
    "sqlalchemy.sql.text": _s("ctor", kw="text", returns="builtins.str"),
    "sqlite3.Connection.cursor": _s("ctor", arg=None, returns="sqlite3.Connection"),
}

# Methods looked up by name alone when the receiver's origin is unknown: the name is distinctive.
DUCK_METHODS: dict[str, Spec] = {
    **{m: _s("file", WRITE, kw="path_or_buf", optional=True) for m in (
        "to_csv", "to_json", "to_excel", "to_parquet", "to_feather", "to_hdf", "to_html", "to_xml",
        "to_stata", "to_orc", "to_latex", "to_markdown")},
    "to_pickle": _s("file", WRITE, kw="path"),  # pandas requires the path
    "tofile": _s("file", WRITE, kw="fid"),
    "dump": _s("file", WRITE, kw="file"),  # ndarray.dump(path)
    **{m: _s("file", WRITE, kw="file", optional=True) for m in (
        "write_csv", "write_parquet", "write_json", "write_ndjson", "write_ipc", "write_excel", "write_avro",
        "sink_parquet", "sink_csv", "sink_ipc", "to_netcdf", "to_zarr", "to_file")},
    "save": _s("file", WRITE, kw="fp", optional=True),  # image.save(path), model.save(path), wb.save(path)
    "savefig": _s("file", WRITE, kw="fname"),
    # plotly's figures (write_image also starts kaleido or orca)
    "write_image": _s("file", WRITE, kw="file", also=(_s("proc", arg=None),)),
    "write_html": _s("file", WRITE, kw="file"),
    # a matplotlib canvas writes a figure with print_figure and one print_<format> per backend
    "print_figure": _s("file", WRITE, kw="filename"),
    **{f"print_{f}": _s("file", WRITE, kw="filename_or_obj") for f in (
        "png", "jpg", "jpeg", "pdf", "svg", "svgz", "ps", "eps", "raw", "rgba", "tif", "tiff", "webp", "pgf")},
    "write_text": _s("file", WRITE, arg=None),
    "write_bytes": _s("file", WRITE, arg=None),
    "read_text": _s("file", READ, arg=None),
    "read_bytes": _s("file", READ, arg=None),
    "unlink": _s("file", DELETE, arg=None),
    "rmdir": _s("file", DELETE, arg=None),
    "to_sql": _s("db", op="insert", arg=None),
    "extractall": _s("file", WRITE, kw="path", default="."),
    "execute": _s("db", kw="sql"),
    "executemany": _s("db", kw="sql"),
    "executescript": _s("db", kw="sql_script"),
    "exec_driver_sql": _s("db", kw="statement"),
    "kill": _s("effect", "process_control", arg=None),
    "terminate": _s("effect", "process_control", arg=None),
    "send_signal": _s("effect", "process_control", arg=None),
    "suspend": _s("effect", "process_control", arg=None),
    "sendto": _s("net", arg=1, kw="address"),
    "sendall": _s("net", arg=None, value_from="self"),
    "connect": _s("net", kw="address", value_from="address"),
    "connect_ex": _s("net", kw="address", value_from="address"),
    "bind": _s("net", kw="address", value_from="address"),
    "urlopen": _s("net", kw="url"),
    "retrbinary": _s("net", arg=None, value_from="self"),
    "storbinary": _s("net", arg=None, value_from="self"),
    "sendmail": _s("net", arg=None, value_from="self"),
    # an event loop's own routes (asyncio.get_event_loop().create_connection(…))
    **{m: _s("net", arg=1, kw="host") for m in ("create_connection", "create_server")},
    **{m: _s("net", arg=None) for m in (
        "create_datagram_endpoint", "create_unix_connection", "create_unix_server", "sock_connect",
        "connect_accepted_socket", "connect_read_pipe", "connect_write_pipe")},
    "subprocess_exec": _s("proc", arg=1, kw="program"),
    "subprocess_shell": _s("proc", arg=1, kw="cmd"),
}

_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")

_NET: dict[str, Spec] = {
    **{f"requests.{v}": _s("net", kw="url", returns="requests.Response") for v in _HTTP_VERBS},
    "requests.request": _s("net", arg=1, kw="url", returns="requests.Response"),
    # the same API under the modules that define it
    **{f"requests.api.{v}": _s("net", kw="url", returns="requests.Response") for v in _HTTP_VERBS},
    "requests.api.request": _s("net", arg=1, kw="url", returns="requests.Response"),
    "requests.sessions.Session": _s("ctor", arg=None, returns="requests.Session"),
    "requests.sessions.session": _s("ctor", arg=None, returns="requests.Session"),
    "requests.Session": _s("ctor", arg=None, returns="requests.Session"),
    "requests.session": _s("ctor", arg=None, returns="requests.Session"),
    **{f"requests.Session.{v}": _s("net", kw="url") for v in _HTTP_VERBS},
    "requests.Session.request": _s("net", arg=1, kw="url"),
    **{f"httpx.{v}": _s("net", kw="url") for v in _HTTP_VERBS},
    "httpx.request": _s("net", arg=1, kw="url"),
    "httpx.stream": _s("net", arg=1, kw="url"),  # stream(method, url)
    "httpx.Client": _s("ctor", arg=None, returns="httpx.Client"),
    "httpx.AsyncClient": _s("ctor", arg=None, returns="httpx.Client"),
    **{f"httpx.Client.{v}": _s("net", kw="url") for v in _HTTP_VERBS},
    "httpx.Client.request": _s("net", arg=1, kw="url"),
    "httpx.Client.stream": _s("net", arg=1, kw="url"),
    # a request built earlier, sent: where it goes is not followed
    "httpx.Client.send": _s("net", arg=None),
    "requests.Session.send": _s("net", arg=None),
    "requests.adapters.HTTPAdapter.send": _s("net", arg=None),
    "requests.adapters.HTTPAdapter": _s("ctor", arg=None, returns="requests.adapters.HTTPAdapter"),
    "urllib3.connection_from_url": _s("net", kw="url"),
    "urllib3.HTTPConnectionPool": _s("net", kw="host"),
    "urllib3.HTTPSConnectionPool": _s("net", kw="host"),
    "aiohttp.ClientSession": _s("ctor", arg=None, returns="aiohttp.ClientSession"),
    **{f"aiohttp.ClientSession.{v}": _s("net", kw="url") for v in (*_HTTP_VERBS, "ws_connect")},
    "aiohttp.ClientSession.request": _s("net", arg=1, kw="url"),
    "aiohttp.request": _s("net", arg=1, kw="url"),
    "urllib.request.urlopen": _s("net", kw="url", returns="builtins.file"),
    "urllib.request.urlretrieve": _s("net", kw="url", also=(_s("file", WRITE, arg=1, kw="filename"),)),
    "urllib.request.Request": _s("ctor", kw="url", returns="urllib.request.Request"),
    "urllib.request.build_opener": _s("ctor", arg=None, returns="urllib.request.OpenerDirector"),
    "urllib.request.OpenerDirector.open": _s("net", kw="fullurl"),
    "urllib.urlopen": _s("net", kw="url"),
    "urllib2.urlopen": _s("net", kw="url"),
    "http.client.HTTPConnection": _s("net", kw="host", returns="http.client.HTTPConnection"),
    "http.client.HTTPSConnection": _s("net", kw="host", returns="http.client.HTTPConnection"),
    "socket.socket": _s("ctor", arg=None, returns="socket.socket"),
    "socket.create_connection": _s("net", kw="address", value_from="address", returns="socket.socket"),
    "socket.create_server": _s("net", kw="address", value_from="address", returns="socket.socket"),
    "socket.getaddrinfo": _s("net", kw="host"),
    "socket.gethostbyname": _s("net", kw="hostname"),
    "socket.socket.connect": _s("net", kw="address", value_from="address"),
    "socket.socket.connect_ex": _s("net", kw="address", value_from="address"),
    "socket.socket.bind": _s("net", kw="address", value_from="address"),
    "socket.socket.sendto": _s("net", arg=1, kw="address", value_from="address"),
    "asyncio.open_connection": _s("net", kw="host"),
    "asyncio.start_server": _s("net", arg=1, kw="host"),
    "ftplib.FTP": _s("net", kw="host", returns="ftplib.FTP"),
    "ftplib.FTP_TLS": _s("net", kw="host", returns="ftplib.FTP"),
    "smtplib.SMTP": _s("net", kw="host", returns="smtplib.SMTP"),
    "smtplib.SMTP_SSL": _s("net", kw="host", returns="smtplib.SMTP"),
    "poplib.POP3": _s("net", kw="host"),
    "imaplib.IMAP4": _s("net", kw="host"),
    "imaplib.IMAP4_SSL": _s("net", kw="host"),
    "telnetlib.Telnet": _s("net", kw="host"),
    "paramiko.SSHClient.connect": _s("net", kw="hostname"),
    "xmlrpc.client.ServerProxy": _s("net", kw="uri"),
    "webbrowser.open": _s("net", kw="url"),
    "websocket.create_connection": _s("net", kw="url"),
    "websockets.connect": _s("net", kw="uri"),
    "urllib3.request": _s("net", arg=1, kw="url"),
    "urllib3.PoolManager": _s("ctor", arg=None, returns="urllib3.PoolManager"),
    "urllib3.PoolManager.request": _s("net", arg=1, kw="url"),
    # servers listen on the address they are given
    **{f"{m}.{c}": _s("net", kw="server_address", value_from="address") for m, c in (
        ("http.server", "HTTPServer"), ("http.server", "ThreadingHTTPServer"), ("socketserver", "TCPServer"),
        ("socketserver", "UDPServer"), ("socketserver", "ThreadingTCPServer"), ("socketserver", "ForkingTCPServer"),
        ("socketserver", "ThreadingUDPServer"), ("xmlrpc.server", "SimpleXMLRPCServer"),
        ("wsgiref.simple_server", "make_server"))},
}

_PROC: dict[str, Spec] = {
    **{f"subprocess.{f}": _s("proc", kw="args") for f in (
        "run", "call", "check_call", "check_output", "Popen", "getoutput", "getstatusoutput")},
    "os.system": _s("proc", kw="command"),
    "os.popen": _s("proc", kw="cmd", returns="builtins.file"),
    **{f"os.{f}": _s("proc", kw="path") for f in (
        "execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe")},
    **{f"os.{f}": _s("proc", arg=1, kw="file") for f in (
        "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe")},
    "os.posix_spawn": _s("proc", kw="path"),
    "os.startfile": _s("proc", kw="path"),
    "_posixsubprocess.*": _s("proc", arg=None),
    "_winapi.CreateProcess": _s("proc", arg=1),
    "os.posix_spawnp": _s("proc", kw="path"),
    "os.fork": _s("proc", arg=None),
    "os.forkpty": _s("proc", arg=None),
    "pty.spawn": _s("proc", kw="argv"),
    "asyncio.create_subprocess_exec": _s("proc", kw="program"),
    "asyncio.create_subprocess_shell": _s("proc", kw="cmd"),
    "multiprocessing.Process": _s("proc", arg=None),
    "commands.getoutput": _s("proc", kw="cmd"),
    "sh.Command": _s("proc", kw="path"),
    "pexpect.spawn": _s("proc", kw="command"),
    "pexpect.run": _s("proc", kw="command"),
}

_ENV: dict[str, Spec] = {
    "os.getenv": _s("env", READ, kw="key"),
    "os.getenvb": _s("env", READ, kw="key"),
    "os.environ.*": _s("env", READ, arg=None),
    "os.environb.*": _s("env", READ, arg=None),
    "os.environ.get": _s("env", READ, kw="key"),
    "os.environb.get": _s("env", READ, kw="key"),
    "os.environb.pop": _s("env", WRITE, kw="key"),
    "os.environb.setdefault": _s("env", WRITE, kw="key"),
    "os.environb.update": _s("env", WRITE, arg=None),
    "os.environb.clear": _s("env", WRITE, arg=None),
    "os.environ.popitem": _s("env", WRITE, arg=None),
    "os.environ.__setitem__": _s("env", WRITE, kw="key"),
    "os.environ.__delitem__": _s("env", WRITE, kw="key"),
    "os.environ.__getitem__": _s("env", READ, kw="key"),
    "os.environ.__contains__": _s("env", READ, kw="key"),
    "os.environ.__iter__": _s("env", READ, arg=None),
    "os.environ.copy": _s("env", READ, arg=None),
    "os.environ.items": _s("env", READ, arg=None),
    "os.environ.keys": _s("env", READ, arg=None),
    "os.environ.values": _s("env", READ, arg=None),
    "os.environ.pop": _s("env", WRITE, kw="key"),
    "os.environ.setdefault": _s("env", WRITE, kw="key"),
    "os.environ.update": _s("env", WRITE, arg=None),
    "os.environ.clear": _s("env", WRITE, arg=None),
    "os.putenv": _s("env", WRITE, kw="name"),
    "os.unsetenv": _s("env", WRITE, kw="name"),
    "dotenv.load_dotenv": _s("env", WRITE, arg=None),
}

_DYN: dict[str, Spec] = {
    "exec": _s("dyn", "exec", arg=None),
    "eval": _s("dyn", "eval", arg=None),
    "compile": _s("dyn", "compile", arg=None),
    "breakpoint": _s("dyn", "other", arg=None),
    "help": _s("dyn", "dynamic_import", arg=None),
    # every loaded module at once: sys.modules.values() holds os whatever was imported by name
    **{f"sys.modules.{m}": _s("dyn", "introspection", arg=None) for m in ("values", "items", "copy", "__iter__")},
    # string.Formatter resolves "0.attr[key]" from text: a getattr by name
    "string.Formatter": _s("ctor", arg=None, returns="string.Formatter"),
    **{f"string.Formatter.{m}": _s("dyn", "introspection", arg=None)
       for m in ("get_field", "get_value", "format", "vformat")},  # help('os') imports os; help('modules') imports them all
    # a directory put on the import path: code is read from it (and run) by the next import
    "sys.path.append": _s("file", READ, kw="object"),
    "sys.path.insert": _s("file", READ, arg=1, kw="object"),
    "sys.path.extend": _s("file", READ, kw="iterable"),
    "sys.path.__setitem__": _s("file", READ, arg=1),
    "sys.path.__iadd__": _s("file", READ),
    "__import__": _s("import", kw="name"),
    "importlib.import_module": _s("import", kw="name"),
    "importlib.__import__": _s("import", kw="name"),
    "importlib.reload": _s("dyn", "dynamic_import", arg=None),
    "importlib.util.spec_from_file_location": _s("dyn", "dynamic_import", arg=None),
    "importlib.machinery.*": _s("dyn", "dynamic_import", arg=None),
    "zipimport.*": _s("dyn", "dynamic_import", arg=None),
    "imp.*": _s("dyn", "dynamic_import", arg=None),
    # unittest imports the modules it is told to test, and every test*.py under a directory
    **{f"unittest.{f}": _s("import", kw="module", optional=True) for f in ("main", "TestProgram")},
    **{f"unittest.{c}": _s("ctor", arg=None, returns="unittest.TestLoader")
       for c in ("TestLoader", "loader.TestLoader")},
    **{f"{owner}.{m}": _s("dyn", "dynamic_import", arg=None)
       for owner in ("unittest.TestLoader", "unittest.defaultTestLoader", "unittest.loader.defaultTestLoader")
       for m in ("discover", "loadTestsFromName", "loadTestsFromNames")},
    # they run code given as text
    **{f"timeit.{f}": _s("dyn", "exec", arg=None) for f in ("timeit", "repeat", "Timer")},
    **{f"{m}.{f}": _s("dyn", "exec", arg=None)
       for m in ("cProfile", "profile") for f in ("run", "runctx")},
    **{f"pdb.{f}": _s("dyn", "exec", arg=None) for f in ("run", "runeval", "runctx")},
    "pdb.*": _s("dyn", "other", arg=None),  # a debugger: reads commands that run code
    "bdb.*": _s("dyn", "other", arg=None),
    "builtins.str.format": _s("pure"),  # a replacement field may reach attributes (_special)
    "builtins.str.format_map": _s("pure"),
    # attribute access by a name given as text: getattr in disguise
    "operator.attrgetter": _s("getattr", arg=None),
    "operator.methodcaller": _s("getattr", arg=None),
    "getattr": _s("getattr", arg=None),
    "globals": _s("dyn", "introspection", arg=None),
    "locals": _s("dyn", "introspection", arg=None),
    "vars": _s("dyn", "introspection", arg=None),
    "setattr": _s("dyn", "introspection", arg=None),
    "delattr": _s("dyn", "introspection", arg=None),
    "sys._getframe": _s("dyn", "introspection", arg=None),
    "sys.settrace": _s("dyn", "introspection", arg=None),
    "sys.setprofile": _s("dyn", "introspection", arg=None),
    "sys.addaudithook": _s("dyn", "introspection", arg=None),
    "sys.audit": _s("dyn", "introspection", arg=None),
    "sys.call_tracing": _s("dyn", "introspection", arg=None),
    "sys.set_asyncgen_hooks": _s("dyn", "introspection", arg=None),
    "sys.set_coroutine_origin_tracking_depth": _s("dyn", "introspection", arg=None),
    "sys.breakpointhook": _s("dyn", "other", arg=None),
    "sys.setdlopenflags": _s("dyn", "native_code", arg=None),
    **{f"sys.{n}": _s("dyn", "dynamic_import", arg=None) for n in ("meta_path", "path_hooks", "path_importer_cache")},
    "inspect.currentframe": _s("dyn", "introspection", arg=None),
    "inspect.stack": _s("dyn", "introspection", arg=None),
    "gc.get_objects": _s("dyn", "introspection", arg=None),
    "gc.get_referents": _s("dyn", "introspection", arg=None),
    "gc.get_referrers": _s("dyn", "introspection", arg=None),  # every frame, dict and module holding an object
    "types.FunctionType": _s("dyn", "exec", arg=None),
    "types.CodeType": _s("dyn", "exec", arg=None),
    "runpy.run_path": _s("dyn", "exec", arg=None),
    "runpy.run_module": _s("dyn", "exec", arg=None),
    "code.*": _s("dyn", "exec", arg=None),
    "codeop.*": _s("dyn", "compile", arg=None),
    "ctypes.*": _s("dyn", "native_code", arg=None),
    "_ctypes.*": _s("dyn", "native_code", arg=None),
    "cffi.*": _s("dyn", "native_code", arg=None),
    "pickle.load": _s("dyn", "deserialization", arg=None),
    "pickle.loads": _s("dyn", "deserialization", arg=None),
    "pickle.Unpickler": _s("dyn", "deserialization", arg=None),
    "_pickle.*": _s("dyn", "deserialization", arg=None),
    "cPickle.*": _s("dyn", "deserialization", arg=None),
    "marshal.load": _s("dyn", "deserialization", arg=None),
    "marshal.loads": _s("dyn", "deserialization", arg=None),
    "shelve.open": _s("dyn", "deserialization", arg=None, also=(_s("file", WRITE, kw="filename"),)),
    "dill.load": _s("dyn", "deserialization", arg=None),
    "dill.loads": _s("dyn", "deserialization", arg=None),
    "cloudpickle.load": _s("dyn", "deserialization", arg=None),
    "cloudpickle.loads": _s("dyn", "deserialization", arg=None),
    "joblib.load": _s("dyn", "deserialization", arg=None, also=(_s("file", READ, kw="filename"),)),
    # scikit-learn's old copy of joblib, and nltk's loader (a .pickle resource is unpickled)
    "sklearn.externals.joblib.load": _s("dyn", "deserialization", arg=None, also=(_s("file", READ, kw="filename"),)),
    "sklearn.externals.joblib.dump": _s("file", WRITE, arg=1, kw="filename"),
    "nltk.data.load": _s("file", READ, kw="resource_url", also=(_s("dyn", "deserialization", arg=None),)),
    "torch.load": _s("dyn", "deserialization", arg=None, also=(_s("file", READ, kw="f"),)),
    # yaml.safe_load is not listed; yaml.load with a safe Loader is safe
    "yaml.load": _s("dyn", "deserialization", arg=1, kw="Loader",
                    safe_with=("yaml.SafeLoader", "yaml.CSafeLoader", "yaml.BaseLoader", "yaml.CBaseLoader")),
    "yaml.load_all": _s("dyn", "deserialization", arg=1, kw="Loader",
                        safe_with=("yaml.SafeLoader", "yaml.CSafeLoader", "yaml.BaseLoader", "yaml.CBaseLoader")),
    "yaml.unsafe_load_all": _s("dyn", "deserialization", arg=None),
    "yaml.full_load_all": _s("dyn", "deserialization", arg=None),
    "torch.jit.load": _s("dyn", "deserialization", arg=None, also=(_s("file", READ, kw="f"),)),
    "torch.package.PackageImporter": _s("dyn", "deserialization", arg=None, also=(_s("file", READ),)),
    "decorator.FunctionMaker*": _s("dyn", "exec", arg=None),  # FunctionMaker.create(signature, body): exec
    "yaml.unsafe_load": _s("dyn", "deserialization", arg=None),
    "yaml.full_load": _s("dyn", "deserialization", arg=None),
    "jsonpickle.decode": _s("dyn", "deserialization", arg=None),
    # text parsed into expressions with eval
    "sympy.sympify": _s("dyn", "eval", arg=None),
    "sympy.core.sympify.sympify": _s("dyn", "eval", arg=None),
    # called, S is sympify (S("…") evaluates the text); its attributes are constants (S.Half, S.Zero)
    "sympy.S": _s("dyn", "eval", arg=None),
    "sympy.core.singleton.S": _s("dyn", "eval", arg=None),
    "sympy.lambdify": _s("dyn", "exec", arg=None),  # writes a function's source and execs it
    "sympy.utilities.lambdify.lambdify": _s("dyn", "exec", arg=None),
    "torch.ops.load_library": _s("dyn", "native_code", arg=None),
    "torch.classes.load_library": _s("dyn", "native_code", arg=None),
    "sympy.parsing.*": _s("dyn", "eval", arg=None),
}

_EFFECTS: dict[str, Spec] = {
    **{f"os.{f}": _s("effect", "process_control", arg=None) for f in (
        "kill", "killpg", "abort", "_exit", "setsid", "setpgid", "nice", "sched_setaffinity")},
    "signal.pthread_kill": _s("effect", "process_control", arg=None),
    "signal.signal": _s("effect", "process_control", arg=None),
    "psutil.Process.kill": _s("effect", "process_control", arg=None),
    "psutil.Process.terminate": _s("effect", "process_control", arg=None),
    "psutil.Process.send_signal": _s("effect", "process_control", arg=None),
    "psutil.Process.suspend": _s("effect", "process_control", arg=None),
    "psutil.*": _s("effect", "system_info", arg=None),
    **{f"os.{f}": _s("effect", "privilege", arg=None) for f in (
        "setuid", "setgid", "seteuid", "setegid", "setreuid", "setregid", "setresuid", "setresgid",
        "setgroups", "initgroups", "chown", "lchown", "fchown", "chmod", "lchmod", "fchmod", "chroot",
        "chflags", "lchflags", "umask")},
    "shutil.chown": _s("effect", "privilege", arg=None),
    "ctypes.CDLL": _s("dyn", "native_code", arg=None),
    **{f"os.{f}": _s("effect", "system_info", arg=None) for f in (
        "uname", "getlogin", "getloadavg", "cpu_count", "getpid", "getppid", "getuid", "geteuid",
        "getgid", "getgroups", "times", "statvfs")},
    "platform.*": _s("effect", "system_info", arg=None),
    **{f"platform.{f}": _s("pure") for f in (
        "python_version", "python_version_tuple", "python_implementation", "python_compiler", "system")},
    "getpass.getuser": _s("effect", "system_info", arg=None),
    "uuid.getnode": _s("effect", "system_info", arg=None),  # the MAC address
    "pwd.*": _s("effect", "system_info", arg=None),
    "grp.*": _s("effect", "system_info", arg=None),
    "spwd.*": _s("effect", "system_info", arg=None),
    "watchdog.observers.Observer": _s("ctor", arg=None, returns="watchdog.Observer"),
    "watchdog.observers.polling.PollingObserver": _s("ctor", arg=None, returns="watchdog.Observer"),
    "watchdog.Observer.schedule": _s("effect", "system_info", arg=None,
                                     also=(_s("file", READ, arg=1, kw="path"),)),
    "resource.setrlimit": _s("effect", "process_control", arg=None),
    "socket.gethostname": _s("effect", "system_info", arg=None),
    **{f"socket.{f}": _s("effect", "system_info", arg=None) for f in ("if_nameindex", "if_nametoindex",
                                                                       "if_indextoname", "gethostbyaddr")},
    # what the machine is: CPUs, GPUs, the distribution, sensors, displays
    **{f"{m}.*": _s("effect", "system_info", arg=None) for m in (
        "GPUtil", "cpuinfo", "distro", "pynvml", "py3nvml", "nvidia_smi", "screeninfo", "pySMART", "sensors",
        "hwinfo", "wmi", "dmidecode", "lshw", "pyudev", "usb", "netifaces", "ifaddr")},
}

_PATH_SELF_READS = ("exists", "is_dir", "is_file", "is_symlink", "is_mount", "is_socket", "is_fifo",
                    "is_block_device", "is_char_device", "lstat", "owner", "group", "readlink", "samefile",
                    "is_junction")

# The closed world's operations, named with their effect (the rest of those modules: _closed.DEFAULT).
_STDLIB: dict[str, Spec] = {
    "io.open_code": _s("file", READ, kw="path", returns="builtins.file"),
    **{f"os.path.{f}": _s("file", READ, kw="path") for f in (
        "exists", "lexists", "isdir", "isfile", "islink", "ismount", "getatime", "getctime", "samefile",
        "sameopenfile", "samestat")},
    "os.path.isdir": _s("file", READ, kw="s"),
    "os.path.expandvars": _s("env", READ, arg=None),
    "os.path.relpath": _s("path_join", arg=None),
    **{f"os.{f}": _s("file", READ, kw="path") for f in (
        "getxattr", "listxattr", "pathconf", "fchdir", "statvfs")},
    **{f"os.{f}": _s("file", READ, arg=None) for f in ("read", "pread", "readv", "fstat", "fstatvfs", "fpathconf")},
    **{f"os.{f}": _s("file", WRITE, kw="path") for f in ("setxattr", "removexattr")},
    **{f"os.{f}": _s("file", WRITE, arg=None) for f in (
        "write", "pwrite", "writev", "pwritev", "sendfile", "copy_file_range", "splice", "ftruncate", "sync",
        "fsync", "fdatasync", "posix_fallocate", "memfd_create")},
    "os.get_exec_path": _s("env", READ, arg=None),
    **{f"os.{f}": _s("effect", "process_control", arg=None) for f in (
        "wait", "wait3", "wait4", "waitid", "waitpid", "setpgrp", "setpriority", "sched_setparam",
        "sched_setscheduler", "sched_yield", "tcsetpgrp", "pidfd_open", "register_at_fork")},
    **{f"os.{f}": _s("effect", "system_info", arg=None) for f in (
        "getpgid", "getpgrp", "getsid", "getpriority", "getresuid", "getresgid", "getegid", "getgrouplist",
        "ctermid", "ttyname", "sysconf", "confstr", "sched_getaffinity", "sched_getparam", "sched_getscheduler",
        "sched_rr_get_interval", "tcgetpgrp")},
    **{f"os.{f}": _s("proc", arg=None) for f in ("openpty", "login_tty")},
    **{f"pathlib.Path.{f}": _s("file", READ, **SELF) for f in _PATH_SELF_READS},
    **{f"pathlib.Path.{f}": _s("file", WRITE, **SELF) for f in ("hardlink_to", "link_to")},
    "pathlib.Path.lchmod": _s("effect", "privilege", **SELF),
    "pathlib.Path.expanduser": _s("ctor", arg=None, returns="pathlib.Path"),  # the home is not known: unknown path
    "pathlib.Path.absolute": _s("ctor", **SELF, returns="pathlib.Path"),
    "pathlib.Path.resolve": _s("ctor", **SELF, returns="pathlib.Path"),
    "pathlib.Path.with_segments": _s("ctor", arg=None, returns="pathlib.Path"),
    "pathlib.Path.joinpath": _s("ctor", **SELF, returns="pathlib.Path"),  # computed by _special
    "pathlib.Path.with_name": _s("ctor", **SELF, returns="pathlib.Path"),
    "pathlib.Path.with_suffix": _s("ctor", **SELF, returns="pathlib.Path"),
    "pathlib.Path.with_stem": _s("ctor", **SELF, returns="pathlib.Path"),
    "pathlib.PurePosixPath": _s("ctor", returns="pathlib.Path"),
    "pathlib.WindowsPath": _s("ctor", returns="pathlib.Path"),
    "pathlib.PureWindowsPath": _s("ctor", returns="pathlib.Path"),
    "tempfile.SpooledTemporaryFile": _s("file", WRITE, arg=None, returns="builtins.file"),
    "tempfile.TemporaryDirectory": _s("file", WRITE, arg=None),
    "fileinput.FileInput": _s("file", READ, kw="files"),
    **{f"linecache.{f}": _s("file", READ, kw="filename") for f in ("getlines", "updatecache", "lazycache")},
    "linecache.checkcache": _s("file", READ, kw="filename", optional=True),
    "tokenize.open": _s("file", READ, kw="filename", returns="builtins.file"),
    "dbm.open": _s("file", READ, kw="file", also=(_s("file", WRITE, kw="file"),)),
    "dbm.whichdb": _s("file", READ, kw="filename"),
    "dbm.dumb.open": _s("file", READ, kw="file", also=(_s("file", WRITE, kw="file"),)),
    **{f"shelve.{c}": _s("dyn", "deserialization", arg=None, also=(_s("file", WRITE, kw="filename"),))
       for c in ("Shelf", "BsdDbShelf", "DbfilenameShelf", "Unpickler")},
    "sqlite3.enable_callback_tracebacks": _s("pure"),
    "sqlite3.enable_shared_cache": _s("pure"),
    "tarfile.bltn_open": _s("open", kw="file", returns="builtins.file"),
    "tarfile.is_tarfile": _s("file", READ, kw="name"),
    "tarfile.copyfileobj": _s("pure"),
    "tarfile.ExFileObject": _s("pure"),
    "zipfile.is_zipfile": _s("file", READ, kw="filename"),
    **{f"zipfile.{c}": _s("open", kw="file", returns="zipfile.ZipFile") for c in (
        "PyZipFile", "CompleteDirs", "FastLookup")},
    "zipfile.Path": _s("file", READ, kw="root"),
    "zipfile.ZipExtFile": _s("pure"),
    "logging.StreamHandler": _s("pure"),  # to a stream: a file opened here was reported where it was opened
    "logging.handlers.BaseRotatingHandler": _s("file", WRITE, kw="filename"),
    **{f"logging.handlers.{h}": _s("net", kw="host") for h in ("SocketHandler", "DatagramHandler", "HTTPHandler")},
    "logging.handlers.SMTPHandler": _s("net", kw="mailhost"),
    "logging.handlers.SysLogHandler": _s("net", kw="address", value_from="address"),
    "logging.handlers.NTEventLogHandler": _s("effect", "other", arg=None),
    "logging.config.dictConfig": _s("dyn", "dynamic_import", arg=None),  # "()" names a factory to import
    "logging.config.fileConfig": _s("dyn", "dynamic_import", arg=None, also=(_s("file", READ, kw="fname"),)),
    "logging.config.listen": _s("net", arg=None, also=(_s("dyn", "dynamic_import", arg=None),)),
    "logging.config.DictConfigurator": _s("dyn", "dynamic_import", arg=None),
    "logging.config.dictConfigClass": _s("dyn", "dynamic_import", arg=None),
    **{f"socket.{f}": _s("net", kw="ip_port" if f == "getnameinfo" else "host") for f in (
        "gethostbyaddr", "gethostbyname_ex", "getfqdn", "getnameinfo")},
    "socket.sethostname": _s("effect", "privilege", arg=None),
    "socket.socketpair": _s("pure"),
    "socket.SocketType": _s("ctor", arg=None, returns="socket.socket"),
    "socket.fromfd": _s("net", arg=None, returns="socket.socket"),  # a socket inherited, connected to anywhere
    "ssl.get_server_certificate": _s("net", kw="addr", value_from="address"),
    "ssl.create_connection": _s("net", kw="address", value_from="address", returns="socket.socket"),
    "ssl.SSLContext.wrap_socket": _s("pure"),
    "asyncio.open_unix_connection": _s("net", kw="path"),
    "asyncio.start_unix_server": _s("net", arg=1, kw="path"),
    "multiprocessing.cpu_count": _s("effect", "system_info", arg=None),
    **{f"signal.{f}": _s("effect", "process_control", arg=None) for f in (
        "alarm", "setitimer", "siginterrupt", "set_wakeup_fd", "pthread_sigmask", "raise_signal",
        "pidfd_send_signal", "pause", "sigwait", "sigwaitinfo", "sigtimedwait", "sigpending")},
    "resource.prlimit": _s("effect", "process_control", arg=None),
    "pkgutil.resolve_name": _s("dyn", "dynamic_import", arg=None),
    "pkgutil.get_data": _s("dyn", "dynamic_import", arg=None, also=(_s("file", READ, arg=1, kw="resource"),)),
    "pydoc.locate": _s("dyn", "dynamic_import", arg=None),
    "pydoc.pipepager": _s("proc", kw="cmd"),
    "pydoc.tempfilepager": _s("proc", kw="cmd"),
    "pydoc.writedoc": _s("file", WRITE, arg=None, also=(_s("dyn", "dynamic_import", arg=None),)),
    "pydoc.browse": _s("net", arg=None),
    **{f"importlib.resources.{f}": _s("file", READ, arg=None, also=(_s("dyn", "dynamic_import", arg=None),))
       for f in ("as_file", "contents", "files", "is_resource", "open_binary", "open_text", "path", "read_binary",
                 "read_text")},
    **{f"importlib.metadata.{f}": _s("pure") for f in (
        "version", "metadata", "requires", "distribution", "distributions", "files", "packages_distributions",
        "PackageMetadata", "PackagePath", "entry_points", "EntryPoints", "SelectableGroups")},
    "importlib.util.resolve_name": _s("pure"),  # text in, text out: resolves a relative module name
    **{f"unittest.mock.{f}": _s("dyn", "dynamic_import", arg=None) for f in ("patch", "create_autospec")},
    "unittest.mock.mock_open": _s("pure"),
    "http.server.CGIHTTPRequestHandler": _s("proc", arg=None),
    **{f"http.cookiejar.{c}": _s("file", READ, kw="filename", also=(_s("file", WRITE, kw="filename"),)) for c in (
        "FileCookieJar", "LWPCookieJar", "MozillaCookieJar")},
    "urllib.request.FileHandler": _s("file", READ, arg=None),
    **{f"urllib.request.{f}": _s("env", READ, arg=None) for f in (
        "getproxies", "getproxies_environment", "proxy_bypass", "proxy_bypass_environment", "ProxyHandler")},
    "urllib.request.urlcleanup": _s("file", DELETE, arg=None),
    "urllib.robotparser.RobotFileParser": _s("net", kw="url", optional=True),
    **{f"{m}.open": _s("open", kw="f", returns="builtins.file") for m in ("wave", "sunau", "aifc")},
    **{f"{m}.{c}_read": _s("file", READ, kw="f") for m, c in (("wave", "Wave"), ("sunau", "Au"), ("aifc", "Aifc"))},
    **{f"{m}.{c}_write": _s("file", WRITE, kw="f") for m, c in (("wave", "Wave"), ("sunau", "Au"), ("aifc", "Aifc"))},
    "py_compile.compile": _s("file", READ, kw="file", also=(_s("file", WRITE, arg=1, kw="cfile"),)),
    **{f"compileall.{f}": _s("file", READ, arg=0, kw="dir" if f == "compile_dir" else "fullname",
                              also=(_s("file", WRITE, arg=None),)) for f in ("compile_dir", "compile_file")},
    "compileall.compile_path": _s("file", WRITE, arg=None),
    "filecmp.cmp": _s("file", READ, kw="f1", also=(_s("file", READ, arg=1, kw="f2"),)),
    "filecmp.cmpfiles": _s("file", READ, kw="a", also=(_s("file", READ, arg=1, kw="b"),)),
    "filecmp.dircmp": _s("file", READ, kw="a", also=(_s("file", READ, arg=1, kw="b"),)),
    "pstats.Stats": _s("file", READ, arg=None, also=(_s("dyn", "deserialization", arg=None),)),
    "mmap.mmap": _s("file", READ, arg=None, also=(_s("file", WRITE, arg=None),)),
    **{f"mailbox.{c}": _s("file", READ, kw="path", also=(_s("file", WRITE, kw="path"),)) for c in (
        "Mailbox", "Maildir", "mbox", "MH", "Babyl", "MMDF")},
    "netrc.netrc": _s("file", READ, kw="file", default="~/.netrc"),
    "getpass.getpass": _s("effect", "system_monitoring", arg=None),
    **{f"wsgiref.simple_server.{c}": _s("net", kw="server_address", value_from="address") for c in (
        "WSGIServer", "HTTPServer")},
}

# Screen, keyboard, mouse, clipboard, camera and microphone capture.
_MONITORING: dict[str, Spec] = {
    **{f"{m}.*": _s("effect", "system_monitoring", arg=None) for m in (
        "PIL.ImageGrab", "pyautogui", "mss", "pynput", "keyboard", "mouse", "pyperclip", "pyscreenshot",
        "pyaudio", "sounddevice", "Xlib", "clipboard", "win32clipboard", "pygetwindow",
        # file system watchers (watchdog's Observer.schedule is catalogued with its path)
        "pyinotify", "inotify_simple", "inotify", "inotifyrecursive", "watchfiles", "watchgod", "pyfswatch",
        "fsevents", "aionotify", "asyncinotify", "cv2.VideoCapture", "picamera", "picamera2", "imageio.v3.imiter",
        "speech_recognition", "pywinauto", "uiautomation", "pyxhook", "evdev")},
    "pandas.read_clipboard": _s("effect", "system_monitoring", arg=None),
    "pandas.DataFrame.to_clipboard": _s("effect", "system_monitoring", arg=None),
    # expressions pandas evaluates from text: judged by _special._pandas_expression
    **{name: _s("pure") for name in ("pandas.eval", "pandas.DataFrame.eval", "pandas.DataFrame.query")},
    # a backend named "module://name" is imported: judged by _special._matplotlib_backend
    **{name: _s("pure") for name in ("matplotlib.use", "matplotlib.pyplot.switch_backend")},
    # text evaluated as a type: judged by _special._forward_text
    "pydantic.create_model": _s("pure"),  # its fields' text types: _special._pydantic_fields
    **{name: _s("pure") for name in ("typing.ForwardRef", "typing.TypeVar", "typing_extensions.TypeVar",
                                     "typing_extensions.ForwardRef")},
    "cv2.VideoCapture": _s("effect", "system_monitoring", arg=None),
    "tkinter.Tk.clipboard_get": _s("effect", "system_monitoring", arg=None),
}

# Data-set fetchers download; the local loaders (sklearn.datasets.load_iris) are pure.
_FETCHERS: dict[str, Spec] = {
    "sklearn.datasets.fetch_*": _s("net", arg=None),
    "pydantic.parse_file_as": _s("file", READ, arg=1, kw="path"),
    "pydantic.tools.parse_file_as": _s("file", READ, arg=1, kw="path"),
    "plotly.io.write_*": _s("file", WRITE, arg=1, kw="file"),
    "nltk.corpus.reader.*": _s("file", READ, kw="root"),  # PlaintextCorpusReader(root, fileids)
    "joblib.Memory": _s("file", WRITE, kw="location", optional=True),  # a cache directory
    # graph readers and writers: read_edgelist(path), write_gml(G, path)
    "networkx.read_*": _s("file", READ),
    "networkx.write_*": _s("file", WRITE, arg=1),
    "networkx.readwrite.*": _s("unknown", arg=None),
    "sklearn.datasets.fetch_openml": _s("net", arg=None),
    "seaborn.load_dataset": _s("net", arg=None),
    "seaborn.get_dataset_names": _s("net", arg=None),
    "keras.utils.get_file": _s("net", kw="origin", arg=1, also=(_s("file", WRITE, arg=None),)),
    "tensorflow.keras.utils.get_file": _s("net", kw="origin", arg=1, also=(_s("file", WRITE, arg=None),)),
    "keras.datasets.*": _s("net", arg=None),
    "tensorflow.keras.datasets.*": _s("net", arg=None),
    "torchvision.datasets.*": _s("net", arg=None),
    "torchtext.datasets.*": _s("net", arg=None),
    "nltk.download": _s("net", arg=None),
    "datasets.load_dataset": _s("net", arg=None),
    "huggingface_hub.*": _s("net", arg=None),
    "transformers.AutoModel.from_pretrained": _s("net", arg=None),
    "statsmodels.datasets.get_rdataset": _s("net", arg=None),
    "vega_datasets.data.*": _s("net", arg=None),
    "plotly.data.*": _s("pure"),
    "gdown.*": _s("net", arg=None),
    "wget.download": _s("net", kw="url"),
    "kaggle.*": _s("net", arg=None),
    "yfinance.*": _s("net", arg=None),
    "pandas_datareader.*": _s("net", arg=None),
}

_TABLE: dict[str, Spec] = {**_FILE, **_DATA, **_NET, **_PROC, **_ENV, **_DYN, **_EFFECTS, **_STDLIB, **_MONITORING,
                           **_FETCHERS}
_PREFIXES: tuple[tuple[str, Spec], ...] = tuple(  # "psutil.*", "sklearn.datasets.fetch_*"
    sorted(((k[:-1], v) for k, v in _TABLE.items() if k.endswith("*")), key=lambda kv: -len(kv[0]))
)

# Packages catalogued whole (psutil.*, yfinance.*): each of their names has the entry's meaning.
_WHOLE_PACKAGES: frozenset[str] = frozenset(p[:-1] for p, _ in _PREFIXES if p.count(".") == 1)

# Top-level modules the catalogue knows: a free name equal to one of them is taken as that module
# (AutoGen's Jupyter executor keeps imports from earlier blocks).
KNOWN_MODULES: frozenset[str] = frozenset(
    k.split(".")[0] for k in (*_TABLE, *_closed.DEFAULT) if "." in k and not k.startswith(("builtins", "pathlib.Path."))
) | frozenset(m for m in _closed.DEFAULT if "." not in m)

# Modules reachable as attributes of others (``np.os``, ``pd.io.common.os``): the use counts as
# a use of the module itself. Maps the attribute name to the module it is.
# Real submodules of judged packages that carry an escape's name: pandas.io.pickle is pandas' own
# (its read_pickle is pandas.read_pickle), not the standard library's pickle.
OWN_SUBMODULES: frozenset[str] = frozenset({"pandas.io.pickle", "pandas.compat.pickle_compat"})

MODULE_ESCAPES: frozenset[str] = frozenset(
    {"os", "sys", "subprocess", "socket", "shutil", "ctypes", "ctypeslib", "builtins", "importlib",
     "pickle", "marshal", "pty", "posix", "nt", "_posixsubprocess", "urllib", "requests", "http"}
)


# The modules os re-exports: the same functions under another name.
_OS_BACKENDS = frozenset({"posix", "nt"})

# The last component of every catalogued name (``system``, ``remove``): a name given as text to
# operator.attrgetter / methodcaller that is one of these reaches an API out of sight.
CATALOGUED_ATTRIBUTES: frozenset[str] = frozenset(k.rsplit(".", 1)[-1] for k in _TABLE if not k.endswith("*"))


def all_specs() -> dict[str, Spec]:
    """Every catalogue entry by name (the duck-typed methods under ``?.``), for validation."""
    return {**_TABLE, **{f"?.{k}": v for k, v in DUCK_METHODS.items()}}


_PATH_MODULES = frozenset({"posixpath", "genericpath", "ntpath"})  # os.path under its own names
PURE_SPEC = Spec("pure", arg=None)
UNKNOWN_SPEC = Spec("unknown", arg=None)
_DEFAULT_SPECS: dict[str, Spec] = {
    "net": Spec("net", arg=None),
    "proc": Spec("proc", arg=None),
    "dyn": Spec("dyn", "dynamic_import", arg=None),
    "unknown": UNKNOWN_SPEC,
    "env": Spec("env", READ, arg=None),  # settings libraries: which variables is not followed
}


@functools.lru_cache(maxsize=4096)
def lookup(qualified: str) -> Spec | None:
    """The spec for a qualified API name: exact first, then the longest ``prefix.*`` entry, then the
    closed world (``_closed``): a name of a module that can reach the outside is pure, an operation
    with the module's default effect, or an unknown operation — never nothing."""
    spec = _TABLE.get(qualified)
    if spec is not None:
        return spec
    head, _, rest = qualified.partition(".")
    if rest and head in _OS_BACKENDS:
        return lookup(f"os.{rest}")  # posix.system is os.system
    if rest and head in _PATH_MODULES:
        return lookup(f"os.path.{rest}")
    for prefix, candidate in _PREFIXES:
        if qualified.startswith(prefix):
            return candidate
    if rest and head in _DATA_ROOTS:
        spec = _data_alias(head, qualified)
        if spec is not None:
            return spec
    return _closed_world(qualified)


# Data libraries re-export what their private modules define: pandas.io.parsers.readers.read_csv is
# pandas.read_csv, pandas.core.frame.DataFrame.to_csv is pandas.DataFrame.to_csv.
_DATA_ROOTS = frozenset({"pandas", "numpy", "matplotlib", "PIL", "scipy", "seaborn", "sklearn"})
_DATA_CLASSES = {"frame": "DataFrame", "series": "Series", "generic": "DataFrame", "NDFrame": "DataFrame",
                 "Series": "Series", "DataFrame": "DataFrame", "ndarray": "ndarray", "Image": "Image.Image"}


def _by_last() -> dict[tuple[str, str], Spec]:
    """(library, last name) → the one spec catalogued under that name anywhere in the library."""
    found: dict[tuple[str, str], set[Spec]] = {}
    for name, spec in _TABLE.items():
        head, _, rest = name.partition(".")
        if head in _DATA_ROOTS and rest and not name.endswith("*") and name.split(".")[-2] not in _DATA_CLASSES:
            found.setdefault((head, name.rsplit(".", 1)[-1]), set()).add(spec)
    # a name catalogued twice (numpy.load, numpy.ma.load) is the library's top-level one, if there is one
    return {key: next(iter(specs)) if len(specs) == 1 else _TABLE[".".join(key)] for key, specs in found.items()
            if len(specs) == 1 or ".".join(key) in _TABLE}


def _data_alias(head: str, qualified: str) -> Spec | None:
    parts = qualified.split(".")
    if len(parts) > 2:
        owner = _DATA_CLASSES.get(parts[-2])
        if owner is not None:
            spec = _TABLE.get(f"{head}.{owner}.{parts[-1]}")
            if spec is not None:
                return spec
        spec = _BY_LAST.get((head, parts[-1]))
        if spec is not None:
            return spec
    return None


# The builtins judged pure; the others are catalogued (open, exec, getattr, print, help, …). An
# exception class is pure too. Any other name the running interpreter's builtins hold — one a later
# Python adds — is an unknown operation until judged (tests/analysis/test_closed_world.py).
_PURE_BUILTIN_NAMES = (
    "Ellipsis False None NotImplemented True __build_class__ __debug__ __doc__ __loader__ __name__ __package__ "
    "__spec__ abs aiter all anext any ascii bin bool bytearray bytes callable chr classmethod complex copyright "
    "credits dict dir divmod enumerate exit filter float format frozenset hasattr hash hex id input int isinstance "
    "issubclass iter len license list map max memoryview min next object oct ord pow property quit range repr "
    "reversed round set slice sorted staticmethod str sum super tuple type zip"
)
PURE_BUILTINS = frozenset(_PURE_BUILTIN_NAMES.split())


def _builtin(name: str) -> Spec | None:
    if name in PURE_BUILTINS or not hasattr(builtins, name):
        return None  # a pure builtin, or a name of the code's own (df, load_model)
    value = getattr(builtins, name)
    if isinstance(value, type) and issubclass(value, BaseException):
        return None
    return UNKNOWN_SPEC


# Standard-library modules judged to reach nothing outside but through the catalogue's entries:
# their other names are pure. A standard-library module in neither this list nor the closed world
# (``_closed``) is unjudged: importing it and every name of it are unknown operations, outside every
# allow-list (doctest runs docstrings, readline writes history files, _posixsubprocess forks, …).
_PURE_STDLIB_NAMES = (
    "__future__ abc argparse array ast atexit audioop base64 binascii bisect builtins calendar cmath codecs "
    "collections colorsys configparser contextlib contextvars copy copyreg csv dataclasses datetime decimal "
    "difflib dis email encodings enum errno fnmatch fractions functools gc getopt graphlib grp hashlib heapq hmac "
    "html http inspect ipaddress itertools json keyword locale marshal math numbers nturl2path opcode operator "
    "optparse pickle pickletools platform plistlib pprint pwd pydoc_data pyexpat queue random re reprlib sched "
    "secrets shlex spwd sre_compile sre_constants sre_parse stat statistics string stringprep struct symtable "
    "sysconfig textwrap threading time timeit token tomllib traceback types typing unicodedata unittest uuid "
    "warnings weakref xdrlib zlib zoneinfo xml urllib concurrent importlib wsgiref xmlrpc posix nt posixpath "
    "ntpath genericpath bdb pdb imp"
)
PURE_STDLIB = frozenset(_PURE_STDLIB_NAMES.split())


_STDLIB_DIRECTORY = os.path.dirname(os.path.realpath(os.__file__)) + os.sep  # lib-dynload lies within


@functools.cache
def _standard_library(top: str) -> bool:
    """Listed in ``sys.stdlib_module_names``, or found by the interpreter among its own modules
    (built in, frozen, or in the standard library's directories outside site-packages: _testcapi,
    _xxsubinterpreters, test) — looked up, never imported."""
    if top in sys.stdlib_module_names:
        return True
    try:
        spec = importlib.machinery.PathFinder.find_spec(top)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return top in sys.builtin_module_names or importlib.machinery.FrozenImporter.find_spec(top) is not None
    origin = os.path.realpath(spec.origin or next(iter(spec.submodule_search_locations or [""])))
    return origin.startswith(_STDLIB_DIRECTORY) and "site-packages" not in origin


@functools.cache
def unjudged_module(module: str) -> bool:
    """A module nobody judged. In the standard library: not in the closed world, not judged pure,
    and no parent of a module that is (``xml`` holds ``xml.sax``). Outside it: a package neither
    judged to compute (``_judged``), nor reaching outside (``_outside``), nor catalogued whole
    (``psutil.*``) — one nobody judged, the code's own module, a relative import."""
    parts = module.split(".")
    if not parts[0]:
        return True  # from . import helpers: the code's own package
    if not _standard_library(parts[0]):
        if hasattr(builtins, parts[0]):
            return False  # bytes.fromhex, dict.fromkeys: a builtin's attribute, judged with the builtins
        return not (judged_package(module) or outside_default(module + ".") is not None
                    or parts[0] in _WHOLE_PACKAGES)
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in PURE_STDLIB or prefix in _closed.DEFAULT:
            return False
    return not any(name.startswith(module + ".") for name in _closed.DEFAULT)


def _closed_world(qualified: str) -> Spec | None:
    owner, _, name = qualified.rpartition(".")
    if not owner:
        return _builtin(qualified)
    pure_methods = _closed.CLASS_PURE.get(owner)
    if pure_methods is not None:  # a method of a class the catalogue tracks (Path, ZipFile, socket, …)
        return PURE_SPEC if name in pure_methods else DUCK_METHODS.get(name, UNKNOWN_SPEC)
    parts = qualified.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:i])
        default = _closed.DEFAULT.get(module)
        if default is None:
            continue
        first = f"{module}.{parts[i]}"
        target = _closed.MODULE_ATTRS.get(first)
        if target is not None:  # shutil.os is os (resolved by the walker); asyncio.events is asyncio's own
            return UNKNOWN_SPEC if target.startswith(module + ".") and i + 1 < len(parts) else None
        if i + 1 < len(parts) and first in _TABLE:
            # an attribute of a catalogued API: its result's type says what it does; an attribute of
            # dynamic code is dynamic code (sys.meta_path.insert)
            return _TABLE[first] if _TABLE[first].kind == "dyn" else None
        if parts[i] in _closed.PURE[module]:
            return PURE_SPEC  # and what hangs off a pure name (logging.root.info)
        if parts[i] in _closed.OPAQUE[module]:
            return _DEFAULT_SPECS[default]
        return UNKNOWN_SPEC
    if unjudged_module(owner):
        return UNKNOWN_SPEC
    outside = outside_default(qualified)  # redis.Redis, sh.rm, jinja2.Template: never pure
    if outside is not None:
        return _DEFAULT_SPECS[outside]
    return UNKNOWN_SPEC if tooling_name(qualified) else None  # numpy.testing.extbuild, cbook._get_…


def unbound_method(qualified: str) -> Spec | None:
    """``pd.DataFrame.to_csv(df, path)``: a data class's method called through the class, so the
    arguments are shifted by the instance."""
    parts = qualified.split(".")
    if len(parts) > 2 and parts[0] in _DATA_ROOTS and parts[-2] in _DATA_CLASSES:
        method = DUCK_METHODS.get(parts[-1])
        if method is not None:
            return dataclasses.replace(method, arg=method.arg + 1) if method.arg is not None else method
    return None


def known(qualified: str) -> bool:
    """The name exists as far as the catalogue knows (``from os import *`` binds it)."""
    spec = lookup(qualified)
    return spec is not None and spec is not UNKNOWN_SPEC


def module_attribute(qualified: str) -> str | None:
    """``shutil.os`` → ``os``: a module reached as another module's attribute."""
    return _closed.MODULE_ATTRS.get(qualified)


_BY_LAST: dict[tuple[str, str], Spec] = _by_last()
