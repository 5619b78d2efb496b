"""The closed world: every public name of every module that can reach the outside is known.

Walks ``dir()`` of each closed module on the installed Python, and of the classes whose instances
the catalogue tracks; a name that is neither catalogued as an operation nor judged pure fails (run
``python scripts/closed_world.py`` after a Python upgrade, then judge what it lists as OPAQUE).
"""

from __future__ import annotations

import importlib
import types

import pytest

from governed_agents import analyze
from governed_agents.analysis import _closed
from governed_agents.analysis._catalogue import PURE_SPEC, UNKNOWN_SPEC, lookup

CLASS_SOURCES = {
    "builtins.file": ("io.TextIOWrapper", "io.BufferedReader", "io.BufferedWriter", "io.FileIO"),
    "pathlib.Path": ("pathlib.Path",),
    "zipfile.ZipFile": ("zipfile.ZipFile",),
    "tarfile.TarFile": ("tarfile.TarFile",),
    "socket.socket": ("socket.socket",),
    "sqlite3.Connection": ("sqlite3.Connection", "sqlite3.Cursor"),
}


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("module", sorted(m for m in _closed.DEFAULT if _importable(m)))
def test_every_public_name_of_the_module_is_an_operation_or_judged_pure(module):
    mod = importlib.import_module(module)
    missing = []
    for name in dir(mod):
        if name.startswith("_"):
            continue
        qualified = f"{module}.{name}"
        if qualified in _closed.MODULE_ATTRS or isinstance(getattr(mod, name), types.ModuleType):
            continue  # a module: its own names are closed where it is listed
        judged = name in _closed.PURE[module] or name in _closed.OPAQUE[module]
        spec = lookup(qualified)
        if not judged and (spec is None or spec is UNKNOWN_SPEC):
            missing.append(name)
    assert not missing, f"{module}: neither an operation nor judged pure: {missing}"


@pytest.mark.parametrize("type_name", sorted(CLASS_SOURCES))
def test_every_method_of_a_tracked_class_is_an_operation_or_judged_pure(type_name):
    missing = []
    for source in CLASS_SOURCES[type_name]:
        module_name, _, cls_name = source.rpartition(".")
        cls = getattr(importlib.import_module(module_name), cls_name)
        for name in dir(cls):
            if name.startswith("_"):
                continue
            judged = name in _closed.CLASS_PURE[type_name] or name in _closed.CLASS_OPAQUE[type_name]
            if not judged and lookup(f"{type_name}.{name}") in (None, UNKNOWN_SPEC):
                missing.append(f"{source}.{name}")
    assert not missing, f"{type_name}: neither an operation nor judged pure: {missing}"


def test_a_name_the_catalogue_does_not_know_is_an_unknown_operation():
    ir = analyze("import os\nos.spawn_something_new('/bin/sh')")
    op = next(o for o in ir.operations if o.type == "function_call")
    assert op.effect == "unknown" and op.api == "os.spawn_something_new"


@pytest.mark.parametrize("module", sorted(m for m in _closed.DEFAULT if _importable(m)))
def test_opaque_names_are_operations_and_pure_names_are_not(module):
    for name in _closed.OPAQUE[module]:
        spec = lookup(f"{module}.{name}")
        assert spec is not None and spec.kind not in ("pure", "ctor", "path_join"), f"{module}.{name}"
    for name in _closed.PURE[module]:  # pure, unless a whole-module entry (ctypes.*) says otherwise
        spec = lookup(f"{module}.{name}")
        assert spec is PURE_SPEC or (spec is not None and spec is not UNKNOWN_SPEC), f"{module}.{name}"


def test_every_builtin_is_an_operation_or_judged_pure():
    import builtins

    from governed_agents.analysis._catalogue import PURE_BUILTINS

    missing = []
    for name in dir(builtins):
        value = getattr(builtins, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            continue
        if name not in PURE_BUILTINS and lookup(name) in (None, UNKNOWN_SPEC):
            missing.append(name)
    assert not missing, f"builtins: neither an operation nor judged pure: {missing}"


def test_a_builtin_nobody_judged_is_an_unknown_operation(monkeypatch):
    """A name a later Python adds to builtins is outside every allow-list until it is judged."""
    import builtins

    from governed_agents.analysis import _scopes
    from governed_agents.policy import parse_policy

    # as if the interpreter had it from the start: the builtins' names are read once, at import
    monkeypatch.setattr(builtins, "spawn_shell", print, raising=False)
    monkeypatch.setattr(_scopes, "BUILTINS", _scopes.BUILTINS | {"spawn_shell"})
    lookup.cache_clear()
    everything = parse_policy('agent "a" { can "code_execution" with constraints { allowed_imports: ["*"] } }')
    ir = analyze("spawn_shell('/bin/sh')")
    op = next(o for o in ir.operations if o.type == "function_call")
    assert op.effect == "unknown" and op.api == "spawn_shell"
    assert not everything.evaluate(ir, executor="a").approved
    # the code's own function of that name is its own
    assert not [o for o in analyze("def spawn_shell(x):\n    return x\nspawn_shell(1)").operations
                if o.type == "function_call"]


def test_every_standard_library_module_is_judged_closed_or_unknown():
    """Each module the interpreter lists as its own is closed (every name judged), judged pure
    (names beyond the catalogue's are pure), or unjudged: then importing it is an unknown operation."""
    import sys

    from governed_agents.analysis._catalogue import PURE_STDLIB, unjudged_module

    for module in sorted(sys.stdlib_module_names):
        judged = module in PURE_STDLIB or module in _closed.DEFAULT
        if judged:
            assert not unjudged_module(module), module
            continue
        ir = analyze(f"import {module}")
        unknown = [o for o in ir.operations if o.type == "function_call" and o.effect == "unknown"]
        parent = any(name.startswith(module + ".") for name in _closed.DEFAULT)
        assert bool(unknown) == (not parent), module


def test_a_name_of_an_unjudged_module_is_unknown():
    assert lookup("readline.write_history_file") is UNKNOWN_SPEC
    assert lookup("_xxsubinterpreters.run_string") is UNKNOWN_SPEC  # not listed, but the interpreter's own
    assert lookup("math.sqrt") is None and lookup("json.loads") is None
    assert lookup("somelib.anything") is UNKNOWN_SPEC  # a third-party package nobody judged
    assert lookup("tqdm.tqdm") is None and lookup("numpy.linalg.norm") is None  # judged to compute


@pytest.mark.parametrize("code, unknown", [
    ("import send2trash\nsend2trash.send2trash('/etc/passwd')", {"import send2trash", "send2trash.send2trash"}),
    ("from send2trash import send2trash as s\nlist(map(s, ['/etc/passwd']))", {"import send2trash",
                                                                               "send2trash.send2trash"}),
    ("import acme.tools as t\nt.wipe()", {"import acme.tools", "acme.tools.wipe"}),
    ("from . import helpers\nhelpers.go()", {"import .helpers", ".helpers.go"}),  # the code's own package
    ("import helpers\nhelpers.go()", {"import helpers", "helpers.go"}),  # a module the work dir may hold
    # imported by name: importing runs the module's code, as a statement's import does
    ("__import__('send2trash')", {"import send2trash"}),
    ("import importlib\nimportlib.import_module('helpers')", {"import helpers"}),
])
def test_a_third_party_package_nobody_judged_is_unknown_from_its_import_on(code, unknown):
    ir = analyze(code)
    found = {o.function for o in ir.operations if o.type == "function_call" and o.effect == "unknown"}
    assert found == unknown


def test_a_judged_package_is_open_beyond_the_catalogue_but_its_outside_corners_and_escapes_are_not():
    def kinds(code: str) -> set[str]:
        return {o.type if o.type != "function_call" else o.effect for o in analyze(code).operations} - {"module_import"}

    assert kinds("import tqdm, numpy as np\nfor _ in tqdm.tqdm(np.arange(3)): pass") == set()
    assert kinds("import numpy as np\nnp.testing.assert_allclose(np.ones(2), 1.0)") == set()  # a check
    assert kinds("import matplotlib\nmatplotlib.use('Agg')") == set()  # a backend matplotlib has
    assert kinds("import matplotlib\nmatplotlib.rcParams['text.usetex'] = False") == set()
    assert kinds("import matplotlib as m\nm.rcParams['backend'] = 'Agg'\nm.rcParams['font.size'] = 9\n"
                 "for k in ['lines.linewidth', 'axes.linewidth']:\n    m.rcParams[k] = 2\n"
                 "for k, v in settings.items():\n    m.rcParams[k] = 2") == set()
    # sympy's constants hang off S; only calling S parses text
    assert kinds("from sympy import S, Symbol\nx = Symbol('x')\ny = S.Half * x + S.Zero") == set()
    assert kinds("import aiohttp.web\naiohttp.web.run_app(app)") == {"network_call"}  # a server
    assert kinds("import sqlalchemy.ext.asyncio as a\na.create_async_engine(url)") == {"network_call"}
    assert kinds("import sympy\nsympy.sympify(text)") == {"dynamic_code"}  # parsed with eval
    assert kinds("import networkx as nx\nnx.write_gml(g, '/etc/g')") == {"file_operation"}
    # a standard-library module reached through a package's attribute is that module
    assert "process_spawn" in kinds("import numpy\nnumpy.os.system('id')")
    assert {"unknown", "process_spawn"} <= kinds("import somelib\nsomelib._subprocess.run(['id'])")
    # pandas.io.pickle is pandas' own module: its read_pickle is pandas.read_pickle
    assert "dynamic_code" in kinds("import pandas as pd\npd.io.pickle.read_pickle('/data/x.pkl')")


# Routes found by attacking the judged packages: each passed the broad policy as pure computation.
@pytest.mark.parametrize("code, kind", [
    ("from numpy.distutils.exec_command import exec_command\nexec_command('id')", "process_spawn"),
    ("import numpy.f2py\nnumpy.f2py.compile(src, 'm')", "process_spawn"),
    ("import pandas.io.clipboard as c\nc.clipboard_get()", "unknown"),  # runs xclip, xsel
    ("from decorator import FunctionMaker\nFunctionMaker.create('f()', 'import os', {})", "dynamic_code"),
    ("import skimage.data\nskimage.data.download_all()", "network_call"),
    ("import plotly.offline\nplotly.offline.plot(fig)", "unknown"),  # writes a file, opens a browser
    ("import pyarrow.dataset as ds\nds.dataset('s3://bucket/x')", "unknown"),
    ("import tensorflow as tf\ntf.io.gfile.remove('/etc/passwd')", "unknown"),
    ("import torch\ntorch.jit.load('/data/m.pt')", "dynamic_code"),
    ("import torch\ntorch.package.PackageImporter('/data/m.pt')", "dynamic_code"),
    ("import yaml\nlist(yaml.load_all(text, Loader=yaml.Loader))", "dynamic_code"),
    ("import yaml\nyaml.unsafe_load_all(text)", "dynamic_code"),
    ("import pydantic\npydantic.parse_file_as(list, '/etc/shadow')", "file_operation"),
    ("import plotly.io as pio\npio.write_html(fig, '/etc/x.html')", "file_operation"),
    ("import nltk.corpus.reader as r\nr.PlaintextCorpusReader('/etc', '.*')", "file_operation"),
    ("import joblib\njoblib.Memory(location='/etc/cache')", "file_operation"),
    ("import requests\ns = requests.Session()\ns.send(prepared)", "network_call"),
    ("import requests.adapters\nrequests.adapters.HTTPAdapter().send(prepared)", "network_call"),
    ("import httpx\nhttpx.Client().send(request)", "network_call"),
    ("import urllib3\nurllib3.HTTPSConnectionPool('example.org').request('GET', '/')", "network_call"),
    ("import urllib3\nurllib3.connection_from_url('https://example.org')", "network_call"),
    ("from tqdm.contrib.telegram import tqdm\nfor _ in tqdm(range(3), token=t, chat_id=c): pass", "network_call"),
    # a package's own tooling and private names were not judged with it
    ("from numpy.testing._private.extbuild import build_and_import_extension\nbuild_and_import_extension('m', [])",
     "unknown"),
    ("from matplotlib.testing import subprocess_run_for_testing\nsubprocess_run_for_testing(['id'])", "unknown"),
    ("import matplotlib.cbook\nmatplotlib.cbook._get_executable_info('gs')", "unknown"),
    ("from sympy.utilities.autowrap import autowrap\nautowrap(expr)", "unknown"),
    ("import networkx as nx\nnx.nx_pydot.graphviz_layout(G, prog='/bin/sh')", "process_spawn"),
    ("from PIL import ImageShow\nImageShow.show(img)", "process_spawn"),
    ("import sympy\nsympy.S(\"__import__('os').system('id')\")", "dynamic_code"),
    ("import sympy\nsympy.lambdify([], text)", "dynamic_code"),
    ("from sympy import S as Sym\nSym(text)", "dynamic_code"),
    ("from numpy.testing import _private\n_private.extbuild.build_and_import_extension('m', [])", "unknown"),
    ("from sympy.parsing.sympy_parser import parse_expr\nparse_expr(text)", "dynamic_code"),
    ("import statsmodels.formula.api as smf\nsmf.ols(\"y ~ I(__import__('os').system('id'))\", df)", "dynamic_code"),
    ("import torch\ntorch.ops.load_library('/data/analysis/x.so')", "dynamic_code"),
    ("import lxml.etree as et\net.XSLT(et.parse('/data/analysis/x.xsl'))(doc)", "unknown"),
    ("import requests\nrequests.utils.get_netrc_auth('https://x')", "unknown"),
    ("import tqdm.contrib.concurrent as c\nc.process_map(f, range(3))", "process_spawn"),
    ("import matplotlib\nmatplotlib.use('module://helpers')", "unknown"),
    ("import statsmodels.api as sm\nsm.load('/data/analysis/m.pickle')", "dynamic_code"),  # a pickle
    ("import networkx as nx\nnx.read_gpickle('/data/analysis/g')", "dynamic_code"),
    ("import sympy\nsympy.init_session()", "dynamic_code"),  # runs what it reads
    ("import dateutil.tz\ndateutil.tz.tzfile('/etc/shadow')", "file_operation"),
    ("import numpy as np\nnp.load('/data/analysis/x.npy', None, True)", "dynamic_code"),  # allow_pickle by position
    ("import numpy as np\nnp.lib.npyio.load('/data/analysis/x.npy', allow_pickle=True)", "dynamic_code"),
    ("import nltk\nnltk.data.load('nltk:x.pickle')", "dynamic_code"),
    ("import sklearn.externals.joblib as j\nj.load('/data/analysis/m')", "dynamic_code"),
    ("import matplotlib\nmatplotlib.rcParams['text.usetex'] = True", "process_spawn"),  # runs latex
    ("import plotly.express as px\npx.line([1]).write_image('/data/analysis/x.png')", "process_spawn"),  # kaleido
    ("import spacy\nspacy.load('en_core_web_sm')", "unknown"),  # imports a package nobody judged
    ("import spacy\nspacy.load(name)", "dynamic_code"),  # imports the work dir's helpers.py
    ("import matplotlib.pyplot as plt\nplt.switch_backend(name)", "dynamic_code"),
    ("import matplotlib\nmatplotlib.rcParams['backend'] = 'module://helpers'", "unknown"),
    ("import matplotlib.pyplot as plt\nfor k, v in settings.items():\n    plt.rcParams[k] = v", "dynamic_code"),
])
def test_the_outside_corners_of_judged_packages_are_operations(code, kind):
    kinds = {o.type if o.type != "function_call" else o.effect for o in analyze(code).operations}
    assert kind in kinds, kinds


def test_a_sympy_function_given_text_evals_it_and_one_given_names_or_expressions_does_not():
    def evals(code: str) -> list[str]:
        return [o.detail for o in analyze("import sympy\n" + code).operations if o.type == "dynamic_code"]

    assert evals("sympy.simplify(\"__import__('os').system('id')\")") == [
        "sympy.simplify parses \"__import__('os').system('id')\" with eval (sympify)"]
    assert evals("from sympy import expand as e\ne('(x + 1)**2')")  # under another name
    assert evals("f = sympy.solve\nf(eq, 'x')")  # through an alias, any position
    assert evals("for t in ['x + 1', 'x']:\n    sympy.factor(t)")  # one of several literals
    assert evals("sympy.Matrix([['x + 1', 2], [3, 4]])")  # each entry is sympified
    assert evals("from sympy import *\nprint(simplify('x'))")  # a star import's free name is sympy's
    assert evals("from sympy import *\ndef simplify(t): pass\nprint(simplify('x'))") == []  # the code's own
    # names and numbers, expressions built in code, keyword text (a plot's title): no eval
    assert evals("x, y = sympy.symbols('x y')\nz = sympy.Symbol('z')\nr = sympy.Rational('1/3')") == []
    assert evals("sympy.expand((x + 1)**2)\nsympy.plot(x**2, title='square')") == []
    assert evals("sympy.expand(expr)") == []  # a value not known here: judged an expression
    assert evals("sympy.Matrix([[1, 2], [x, 3]])") == []


def test_spacy_load_reads_a_model_directory():
    ops = [o for o in analyze("import spacy\nspacy.load('/data/analysis/model')").operations if o.type != "module_import"]
    assert [(o.type, o.operation, o.paths) for o in ops] == [("file_operation", "read", ("/data/analysis/model",))]


def test_numpy_load_writes_a_file_it_maps_for_writing():
    def writes(code: str) -> list[str | None]:
        return [p for o in analyze("import numpy as np\n" + code).operations
                if o.type == "file_operation" and o.operation == "write" for p in o.paths]

    assert writes("np.load('/data/analysis/x.npy', mmap_mode='r+')") == ["/data/analysis/x.npy"]
    assert writes("np.load('/data/analysis/x.npy', 'w+')") == ["/data/analysis/x.npy"]
    assert writes("np.load('/data/analysis/x.npy', mmap_mode=mode)") == ["/data/analysis/x.npy"]  # not known here
    assert writes("np.load('/data/analysis/x.npy', mmap_mode='r')\nnp.load('/data/analysis/y.npy')") == []


def test_httpx_stream_connects_to_its_url_not_to_its_method():
    ops = [o for o in analyze("import httpx\nhttpx.stream('GET', 'https://example.org/x')").operations
           if o.type == "network_call"]
    assert [o.destination for o in ops] == ["example.org"]


def test_a_package_that_reaches_outside_is_never_pure_but_its_catalogued_names_keep_their_meaning():
    from governed_agents.analysis._outside import OUTSIDE_PACKAGES

    assert set(OUTSIDE_PACKAGES.values()) <= {"net", "proc", "dyn", "unknown", "env"}
    redis = next(o for o in analyze("import redis\nredis.Redis(host='h').get('k')").operations
                 if o.type == "network_call")
    assert redis.destination is None  # where it connects is not followed: an unknown destination
    get = next(o for o in analyze("import requests\nrequests.get('https://example.org/x')").operations
               if o.type == "network_call")
    assert get.destination == "example.org"
    assert lookup("tqdm.tqdm") is None  # a package judged to compute stays open
