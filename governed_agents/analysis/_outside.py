"""Third-party packages that exist to reach outside: clients of networks and databases, process
runners, remote execution, template and expression engines, credential stores, servers.

They are not installed here, so their names cannot be walked as the standard library's are
(``_closed``). A name of one of them that the catalogue does not list is an operation with the
package's default effect — a network connection to an unknown destination, a process with an
unknown command, dynamic code, a read of the environment, or an unknown operation — never pure. Looked up by the longest
dotted prefix; catalogued names (``requests.get``) are found first.
"""

from __future__ import annotations

__all__ = ["OUTSIDE_PACKAGES", "outside_default"]


def _names(text: str) -> list[str]:
    return text.split()


_NET = _names(
    "boto3 botocore s3fs gcsfs adlfs google.cloud azure pycurl httplib2 treq tornado.httpclient pymysql MySQLdb "
    "mysql.connector psycopg2 psycopg asyncpg aiomysql pymssql pyodbc cx_Oracle oracledb redis aioredis pymongo "
    "motor cassandra elasticsearch opensearchpy kafka confluent_kafka aiokafka pika aio_pika celery kombu zmq grpc "
    "nats paho dns ftputil pysftp smbclient smbprotocol ldap3 ldap selenium playwright pyppeteer scapy nmap shodan "
    "telegram telebot discord tweepy slack_sdk twilio yagmail sendgrid boto uvicorn gunicorn hypercorn "
    "waitress gradio dash wget gdown pytube yt_dlp youtube_dl github gitlab jira atlassian dropbox pysnmp netmiko "
    "napalm mechanize scrapy pywebpush socketio engineio websocket_server xmlrpc_client pynetbox proxmoxer "
    "hvac consul etcd3 kazoo minio pysolr neo4j py2neo influxdb influxdb_client clickhouse_driver snowflake "
    "databricks pyhive impala sshtunnel asyncssh telnetlib3 pexpect.pxssh "
    # model APIs and hubs, dataset downloaders, experiment trackers
    "openai anthropic cohere google.generativeai google.genai mistralai groq together replicate litellm "
    "huggingface_hub transformers datasets tensorflow_datasets tensorflow_hub kagglehub kaggle gensim.downloader "
    "pooch wandb mlflow comet_ml neptune clearml"
)
_PROC = _names("sh plumbum pexpect invoke fabric delegator sarge envoy git docker podman ansible ansible_runner")
_DYN = _names(
    # installers: a package fetched and its build code run here
    "pip setuptools pipx conda poetry pdm hatchling flit_core build "
    "langchain_experimental autogen_ext.code_executors autogen_core.code_executor IPython ipykernel jupyter_client nbclient nbconvert papermill jinja2 mako chameleon genshi numexpr asteval "
    "simpleeval dill cloudpickle jsonpickle marshmallow_dataclass pyximport cffi Cython numba.pycc"
)
# outside-reaching corners of packages judged to compute (``_judged``)
_NET += _names("aiohttp.web pyarrow.flight jwt.PyJWKClient torch.distributed nltk.downloader sqlalchemy.ext.asyncio "
                "sqlalchemy.engine.create_engine sqlalchemy.engine_from_config sqlalchemy.engine.engine_from_config")
_NET += _names("skimage.data.download_all tqdm.contrib.telegram tqdm.contrib.discord tqdm.contrib.slack")
_PROC += _names("numpy.distutils numpy.f2py")  # compilers and commands run
_DYN += _names("torch.utils.cpp_extension")
# found by attacking the judged packages: a graph drawn by a program the code names, a viewer, an
# animation's encoder; strings parsed with eval (sympy, formulas); native libraries; XSLT extensions
_PROC += _names("networkx.nx_pydot networkx.nx_agraph networkx.drawing.nx_pydot networkx.drawing.nx_agraph "
                "PIL.ImageShow PIL.Image.Image.show matplotlib.animation sympy.preview sympy.printing.preview "
                "torch.multiprocessing tqdm.contrib.concurrent")
_DYN += _names("statsmodels.formula")  # patsy's formulas are evaluated as Python
_UNKNOWN = _names("pyarrow.fs pyarrow.dataset pyarrow.hdfs tensorflow.io tensorflow.gfile tensorflow.compat.v1.gfile "
                  "pandas.io.clipboard plotly.offline.plot lxml.etree.XSLT lxml.etree.XSLTExtension "
                  "requests.utils.get_netrc_auth requests.utils.get_environ_proxies")
_UNKNOWN += _names(
    "keyring win32api win32con win32com pywinauto pythoncom wmi pyudev evdev usb serial bluetooth pyshark "
    "netifaces pyroute2 iptc nftables python_iptables systemd dbus psycopg_pool sqlalchemy.pool"
)

# settings libraries: they read the environment (and .env files) when a settings object is made
_ENV = _names("pydantic.BaseSettings pydantic.v1.BaseSettings pydantic_settings environs decouple envparse everett dynaconf environ_config goodconf envier")

OUTSIDE_PACKAGES: dict[str, str] = {
    **{m: "net" for m in _NET}, **{m: "proc" for m in _PROC}, **{m: "dyn" for m in _DYN},
    **{m: "unknown" for m in _UNKNOWN}, **{m: "env" for m in _ENV},
}


def outside_default(qualified: str) -> str | None:
    """The default effect of the outside-reaching package that ``qualified`` belongs to, or None."""
    parts = qualified.split(".")
    for i in range(len(parts), 0, -1):  # a listed name (plotly.offline.plot), or a module holding it
        default = OUTSIDE_PACKAGES.get(".".join(parts[:i]))
        if default is not None:
            return default
    return None
