"""Write governed_agents/analysis/_closed.py: the closed world, from the judgements below and the
installed Python's modules (run it after a Python upgrade; tests/analysis/test_closed_world.py
fails on any public name that is neither catalogued nor judged).

    python scripts/closed_world.py

Rules applied mechanically: constants (numbers, strings, tuples, enum members, regular expressions,
plain containers) and exception classes are pure; module attributes (``shutil.os``) are that module.
Everything else is either an entry of the catalogue (``_catalogue``), named pure below by judgement,
or an operation with the module's default effect (``DEFAULT``): network for network clients, process
for process modules, dynamic code for loaders, an unknown operation (outside every allow-list) else.
"""

from __future__ import annotations

import enum
import importlib
import io
import re
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from governed_agents.analysis._catalogue import _TABLE, PURE_STDLIB  # noqa: E402

NET, PROC, DYN, UNKNOWN = "net", "proc", "dyn", "unknown"
# module → (default effect of its uncatalogued operations, names judged pure)
JUDGED: dict[str, tuple[str, str]] = {
    "os": (UNKNOWN, """DirEntry GenericAlias Mapping MutableMapping PathLike WCOREDUMP WEXITSTATUS WIFCONTINUED
        WIFEXITED WIFSIGNALED WIFSTOPPED WSTOPSIG WTERMSIG fsdecode fsencode fspath get_terminal_size getcwd getcwdb
        major minor makedev sched_param stat_result statvfs_result terminal_size times_result uname_result
        waitid_result waitstatus_to_exitcode strerror confstr_names pathconf_names sysconf_names supports_dir_fd
        supports_effective_ids supports_fd supports_follow_symlinks urandom getrandom get_blocking set_blocking
        get_inheritable set_inheritable isatty device_encoding sched_get_priority_max sched_get_priority_min
        close closerange environ environb"""),  # os.environ: read and written through _special
    "os.path": (UNKNOWN, """basename commonpath commonprefix dirname isabs normcase split splitdrive splitext
        genericpath"""),
    "io": (UNKNOWN, """BufferedIOBase BufferedRWPair BufferedRandom BufferedReader BufferedWriter BytesIO IOBase
        IncrementalNewlineDecoder RawIOBase StringIO TextIOBase TextIOWrapper text_encoding"""),
    "pathlib": (UNKNOWN, """S_ISBLK S_ISCHR S_ISDIR S_ISFIFO S_ISLNK S_ISREG S_ISSOCK Sequence attrgetter
        urlquote_from_bytes"""),
    "shutil": (UNKNOWN, """get_archive_formats get_terminal_size get_unpack_formats ignore_patterns"""),
    "tempfile": (UNKNOWN, """gettempdir gettempdirb gettempprefix gettempprefixb mktemp"""),
    "glob": (UNKNOWN, """escape has_magic magic_check magic_check_bytes"""),
    "fileinput": (UNKNOWN, """GenericAlias close filelineno filename fileno isfirstline isstdin lineno nextfile
        hook_compressed hook_encoded"""),
    "linecache": (UNKNOWN, """cache clearcache"""),
    "tokenize": (UNKNOWN, """EXACT_TOKEN_TYPES ISEOF ISNONTERMINAL ISTERMINAL TextIOWrapper TokenInfo Untokenizer
        any blank_re cookie_re detect_encoding endpats generate_tokens group maybe single_quoted tok_name
        tokenize triple_quoted untokenize lookup"""),
    "dbm": (UNKNOWN, ""),
    "dbm.dumb": (UNKNOWN, ""),
    "shelve": (UNKNOWN, """BytesIO Pickler"""),
    "sqlite3": (UNKNOWN, """Binary Date DateFromTicks PrepareProtocol Row Time TimeFromTicks Timestamp
        TimestampFromTicks adapt adapters complete_statement converters register_adapter register_converter
        Blob Cursor"""),
    "tarfile": (UNKNOWN, """PAX_NAME_FIELDS PAX_NUMBER_FIELDS TarInfo calc_chksums data_filter fully_trusted_filter
        itn nti nts stn tar_filter"""),
    "zipfile": (UNKNOWN, """LZMACompressor LZMADecompressor ZipInfo compressor_names crc32"""),
    "gzip": (UNKNOWN, """compress decompress write32u"""),
    "bz2": (UNKNOWN, """BZ2Compressor BZ2Decompressor compress decompress"""),
    "lzma": (UNKNOWN, """LZMACompressor LZMADecompressor compress decompress is_check_supported"""),
    "logging": (UNKNOWN, """BufferingFormatter Filter Filterer Formatter GenericAlias Handler LogRecord Logger
        LoggerAdapter Manager NullHandler PercentStyle PlaceHolder RootLogger StrFormatStyle StringTemplateStyle
        Template addLevelName captureWarnings critical debug disable error exception fatal getLevelName
        getLevelNamesMapping getLogRecordFactory getLogger getLoggerClass info log makeLogRecord root
        setLogRecordFactory setLoggerClass shutdown warn warning StreamHandler lastResort"""),
    "logging.handlers": (UNKNOWN, """BufferingHandler MemoryHandler QueueHandler QueueListener"""),
    "logging.config": (UNKNOWN, """BaseConfigurator ConvertingDict ConvertingList ConvertingMixin ConvertingTuple
        IDENTIFIER valid_ident"""),
    "socket": (NET, """AddressFamily AddressInfo CAPI CMSG_LEN CMSG_SPACE IntEnum IntFlag MsgFlag SocketKind
        getdefaulttimeout htonl htons inet_aton inet_ntoa inet_ntop inet_pton ntohl ntohs setdefaulttimeout
        has_dualstack_ipv6 if_nameindex if_indextoname if_nametoindex getprotobyname getservbyname getservbyport
        close dup"""),
    "ssl": (NET, """AlertDescription CHANNEL_BINDING_TYPES DER_cert_to_PEM_cert DefaultVerifyPaths MemoryBIO Options
        PEM_cert_to_DER_cert Purpose RAND_add RAND_bytes RAND_pseudo_bytes RAND_status SSLContext SSLErrorNumber
        SSLObject SSLSession TLSVersion VerifyFlags VerifyMode cert_time_to_seconds create_default_context
        get_default_verify_paths get_protocol_name match_hostname namedtuple"""),
    "select": (UNKNOWN, """epoll poll select"""),
    "selectors": (UNKNOWN, """ABCMeta BaseSelector DefaultSelector EpollSelector Mapping PollSelector SelectSelector
        SelectorKey abstractmethod namedtuple"""),
    "asyncio": (UNKNOWN, """AbstractEventLoop AbstractEventLoopPolicy AbstractServer Barrier BaseEventLoop
        BaseProtocol BaseTransport BoundedSemaphore BufferedProtocol Condition DatagramProtocol DatagramTransport
        DefaultEventLoopPolicy Event Future Handle LifoQueue Lock PriorityQueue Protocol Queue ReadTransport Runner
        SelectorEventLoop Semaphore StreamReader StreamReaderProtocol StreamWriter Task TaskGroup Timeout
        TimerHandle Transport WriteTransport all_tasks as_completed create_task current_task ensure_future gather
        get_event_loop get_event_loop_policy get_running_loop iscoroutine iscoroutinefunction isfuture
        new_event_loop run run_coroutine_threadsafe set_event_loop set_event_loop_policy shield sleep timeout
        timeout_at to_thread wait wait_for wrap_future"""),
    "multiprocessing": (PROC, """Array Barrier BoundedSemaphore Condition Event JoinableQueue Lock Pipe Queue RLock
        RawArray RawValue Semaphore SimpleQueue Value active_children allow_connection_pickling cpu_count
        current_process freeze_support get_all_start_methods get_logger get_start_method parent_process"""),
    "concurrent.futures": (PROC, """Executor Future ThreadPoolExecutor as_completed wait"""),
    "subprocess": (PROC, """CompletedProcess list2cmdline"""),
    "pty": (PROC, """close tcgetattr tcsetattr select"""),
    "signal": (UNKNOWN, """Handlers Sigmasks Signals default_int_handler getitimer getsignal strsignal
        struct_siginfo valid_signals"""),
    "resource": (UNKNOWN, """getpagesize getrlimit getrusage struct_rusage"""),
    "pydoc": (DYN, """classify_class_attrs classname cram isdata replace sort_attributes splitdoc stripid
        visiblename deque"""),
    "pkgutil": (DYN, """ModuleInfo ModuleType namedtuple simplegeneric"""),
    "importlib": (DYN, """invalidate_caches"""),
    "importlib.util": (DYN, """MAGIC_NUMBER cache_from_source source_from_cache source_hash decode_source
        contextmanager"""),
    "importlib.machinery": (DYN, """all_suffixes ModuleSpec BYTECODE_SUFFIXES DEBUG_BYTECODE_SUFFIXES
        EXTENSION_SUFFIXES OPTIMIZED_BYTECODE_SUFFIXES SOURCE_SUFFIXES"""),
    "importlib.resources": (DYN, """Package"""),
    "importlib.metadata": (DYN, """Deprecated DeprecatedList DeprecatedTuple FreezableDefaultDict List Mapping
        Optional Pair Union always_iterable method_cache pass_none starmap suppress unique_everseen Sectioned
        Lookup Prepared"""),
    "importlib.abc": (DYN, ""),
    "runpy": (DYN, """ModuleType"""),
    "unittest.mock": (DYN, """ANY DEFAULT sentinel AsyncMagicMixin AsyncMock AsyncMockMixin Base CallableMixin
        MagicMixin MagicMock MagicProxy Mock NonCallableMagicMock NonCallableMock PropertyMock RLock
        iscoroutinefunction partial safe_repr seal wraps CodeType MethodType ModuleType"""),
    "http.client": (NET, """HTTPMessage HTTPResponse parse_headers responses urlsplit"""),
    "http.server": (NET, """BaseHTTPRequestHandler HTTPStatus SimpleHTTPRequestHandler"""),
    "http.cookiejar": (UNKNOWN, """Absent Cookie CookieJar CookiePolicy DAYS DefaultCookiePolicy ESCAPED_CHAR_RE
        HEADER_ESCAPE_RE HEADER_JOIN_ESCAPE_RE HEADER_QUOTED_VALUE_RE HEADER_TOKEN_RE HEADER_VALUE_RE IPV4_RE
        ISO_DATE_RE LOOSE_HTTP_DATE_RE MONTHS MONTHS_LOWER NETSCAPE_MAGIC_RGX STRICT_DATE_RE TIMEZONE_RE
        UTC_ZONES WEEKDAY_RE cut_port_re deepvalues domain_match eff_request_host escape_path http2time is_HDN
        is_third_party iso2time join_header_words liberal_is_HDN lwp_cookie_str offset_from_tz_string
        parse_ns_headers reach request_host request_path request_port split_header_words strip_quotes time2isoz
        time2netscape timegm unmatched uppercase_escaped_char user_domain_match"""),
    "urllib.request": (NET, """AbstractBasicAuthHandler AbstractDigestAuthHandler BaseHandler HTTPBasicAuthHandler
        HTTPDigestAuthHandler HTTPPasswordMgr HTTPPasswordMgrWithDefaultRealm HTTPPasswordMgrWithPriorAuth
        ProxyBasicAuthHandler ProxyDigestAuthHandler HTTPDefaultErrorHandler HTTPErrorProcessor HTTPRedirectHandler
        HTTPCookieProcessor addclosehook addinfourl noheaders parse_http_list parse_keqv_list pathname2url quote
        request_host unquote unquote_to_bytes unwrap url2pathname urljoin urlparse urlsplit urlunparse
        ftpcache"""),
    "urllib.response": (UNKNOWN, """addbase addclosehook addinfo addinfourl"""),
    "urllib.robotparser": (NET, """Entry RequestRate RuleLine"""),
    "ftplib": (NET, """parse150 parse227 parse229 parse257 print_line"""),
    "smtplib": (NET, """OLDSTYLE_AUTH encode_base64 quoteaddr quotedata"""),
    "poplib": (NET, ""),
    "imaplib": (NET, """Commands Continuation Flags Int2AP InternalDate Internaldate2tuple Literal MapCRLF Mon2num
        Months ParseFlags Response_code Time2Internaldate Untagged_response Untagged_status datetime timedelta
        timezone"""),
    "xmlrpc.client": (NET, """Binary Boolean BytesIO DateTime Decimal ExpatParser Marshaller MultiCall
        MultiCallIterator Unmarshaller boolean datetime dumps escape getparser gzip_decode gzip_encode loads
        GzipDecodedResponse"""),
    "xmlrpc.server": (NET, """SimpleXMLRPCDispatcher XMLRPCDocGenerator ServerHTMLDoc dumps gzip_decode gzip_encode
        list_public_methods loads partial signature BaseHTTPRequestHandler SimpleXMLRPCRequestHandler
        DocXMLRPCRequestHandler"""),
    "wave": (UNKNOWN, """namedtuple"""),
    # ElementTree (the class: write/parse by path) and canonicalize(from_file=) stay unknown operations
    "xml.etree.ElementTree": (UNKNOWN, """C14NWriterTarget Comment Element ElementPath HTML_EMPTY PI
        ProcessingInstruction QName SubElement TreeBuilder XML XMLID XMLParser XMLPullParser dump fromstring
        fromstringlist indent iselement register_namespace tostring tostringlist"""),
    "xml.dom.minidom": (UNKNOWN, """Attr AttributeList CDATASection CharacterData Childless Comment
        DOMImplementation DOMImplementationLS Document DocumentFragment DocumentLS DocumentType Element ElementInfo
        EmptyNodeList Entity Identified NamedNodeMap Node NodeList Notation ProcessingInstruction
        ReadOnlySequentialNamedNodeMap StringTypes Text TypeInfo defproperty getDOMImplementation parseString"""),
    "xml.dom.pulldom": (UNKNOWN, """DOMEventStream ErrorHandler PullDOM SAX2DOM parseString"""),
    # make_parser's reader parses a path or URL unseen: it stays an unknown operation
    "xml.sax": (UNKNOWN, """ContentHandler ErrorHandler InputSource SAXReaderNotAvailable default_parser_list
        parseString"""),
    # MimeTypes(filenames) and init(files) read files: unknown operations
    "mimetypes": (UNKNOWN, """add_type common_types encodings_map guess_all_extensions guess_extension guess_type
        inited knownfiles suffix_map types_map"""),
    "py_compile": (UNKNOWN, """PycInvalidationMode"""),
    "compileall": (UNKNOWN, """partial"""),
    "filecmp": (UNKNOWN, """DEFAULT_IGNORES GenericAlias clear_cache filterfalse"""),
    "cProfile": (DYN, """label"""),
    "profile": (DYN, ""),
    "pstats": (UNKNOWN, """Dict FunctionProfile SortKey StatsProfile StrEnum TupleComp add_callers add_func_stats
        cmp_to_key count_calls dataclass f8 func_get_function_name func_std_string func_strip_path"""),
    "trace": (DYN, """CoverageResults"""),
    "ctypes": (DYN, ""),
    "mmap": (UNKNOWN, ""),
    "webbrowser": (NET, ""),
    "code": (DYN, ""),
    "codeop": (DYN, ""),
    "socketserver": (NET, """BaseRequestHandler BufferedIOBase DatagramRequestHandler ForkingMixIn
        StreamRequestHandler ThreadingMixIn time"""),
    "mailbox": (UNKNOWN, """BabylMessage GenericAlias MHMessage MMDFMessage Message MaildirMessage mboxMessage"""),
    "netrc": (UNKNOWN, ""),
    "zipimport": (DYN, ""),
    "doctest": (DYN, """DocTestFailure UnexpectedException"""),  # testmod() and friends run docstring examples
    "faulthandler": (UNKNOWN, """is_enabled"""),
    "termios": (UNKNOWN, ""),
    "tty": (UNKNOWN, ""),
    "fcntl": (UNKNOWN, ""),
    "getpass": (UNKNOWN, ""),
    "site": (DYN, """PREFIXES"""),
    "wsgiref.simple_server": (NET, """BaseHTTPRequestHandler ServerHandler SimpleHandler WSGIRequestHandler
        demo_app python_implementation"""),
    "telnetlib": (NET, ""),
    "nntplib": (NET, """ArticleInfo GroupInfo decode_header"""),
    "sunau": (UNKNOWN, """namedtuple"""),
    "aifc": (UNKNOWN, """Chunk namedtuple"""),
    "urllib.error": (UNKNOWN, ""),
    "sys": (UNKNOWN, """abiflags api_version argv base_exec_prefix base_prefix builtin_module_names byteorder copyright
        displayhook dont_write_bytecode exc_info excepthook exception exec_prefix executable exit flags float_info
        float_repr_style get_asyncgen_hooks get_coroutine_origin_tracking_depth get_int_max_str_digits
        getallocatedblocks getdefaultencoding getdlopenflags getfilesystemencodeerrors getfilesystemencoding
        getprofile getrecursionlimit getrefcount getsizeof getswitchinterval gettrace hash_info hexversion
        implementation int_info intern is_finalizing maxsize maxunicode orig_argv path platform platlibdir prefix
        pycache_prefix set_int_max_str_digits setrecursionlimit setswitchinterval stderr stdin stdlib_module_names
        stdout thread_info unraisablehook version version_info warnoptions ps1 ps2 last_type last_value
        last_traceback tracebacklimit modules"""),  # sys.modules: read through _special
}

# Classes whose instances the catalogue tracks (``returns=``): their methods are closed too.
# catalogue type → (the classes it stands for, methods judged pure)
CLASSES: dict[str, tuple[tuple[str, ...], str]] = {
    "builtins.file": (("io.TextIOWrapper", "io.BufferedReader", "io.BufferedWriter", "io.FileIO"),
                      """buffer close closed closefd detach encoding errors fileno flush isatty line_buffering mode
                      name newlines peek raw read read1 readable readall readinto readinto1 readline readlines
                      reconfigure seek seekable tell truncate writable write write_through writelines"""),
    "pathlib.Path": (("pathlib.Path",), """anchor as_posix as_uri drive is_absolute is_relative_to is_reserved
                      match name parent parents parts relative_to root stem suffix suffixes with_stem"""),
    "zipfile.ZipFile": (("zipfile.ZipFile",), """close comment debug fp getinfo infolist mkdir namelist printdir
                      setpassword testzip"""),
    "tarfile.TarFile": (("tarfile.TarFile",), """OPEN_METH close debug dereference encoding errorlevel errors
                      extraction_filter fileobject format getmember getmembers getnames ignore_zeros list
                      next pax_headers tarinfo"""),
    "socket.socket": (("socket.socket",), """accept close detach dup family fileno get_inheritable getblocking
                      getpeername getsockname getsockopt gettimeout listen makefile proto recv recv_into recvfrom
                      recvfrom_into recvmsg recvmsg_into send sendfile sendmsg set_inheritable setblocking
                      setsockopt settimeout shutdown timeout type"""),
    "sqlite3.Connection": (("sqlite3.Connection", "sqlite3.Cursor"), """DataError DatabaseError Error IntegrityError
                      InterfaceError InternalError NotSupportedError OperationalError ProgrammingError Warning
                      arraysize close commit connection create_aggregate create_collation create_function
                      create_window_function description fetchall fetchmany fetchone getlimit in_transaction
                      interrupt isolation_level lastrowid rollback row_factory rowcount setinputsizes
                      setoutputsize setlimit text_factory total_changes"""),
}


def _is_constant(value: object) -> bool:
    return isinstance(value, (int, float, complex, str, bytes, bool, type(None), tuple, frozenset, enum.Enum,
                              re.Pattern, dict, list, set)) and not hasattr(value, "putenv")


def _is_exception(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, BaseException)


def _public(obj: object) -> list[str]:
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def build() -> str:
    pure: dict[str, list[str]] = {}
    opaque: dict[str, list[str]] = {}
    module_attrs: dict[str, str] = {}
    for name, (_, judged) in JUDGED.items():
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        judged_names = set(judged.split())
        pure[name], opaque[name] = [], []
        for attr in _public(module):
            value = getattr(module, attr)
            qualified = f"{name}.{attr}"
            if isinstance(value, types.ModuleType):
                module_attrs[qualified] = value.__name__ if qualified != "os.path" else "os.path"
            elif qualified in _TABLE:
                continue
            elif attr in judged_names or _is_constant(value) or _is_exception(value):
                pure[name].append(attr)
            else:
                opaque[name].append(attr)
    # a module reached as another's attribute, private names too (random._os, json.codecs,
    # collections._sys): in every closed module and every module judged pure
    for name in (*JUDGED, *sorted(PURE_STDLIB)):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attr in dir(module):
            value = getattr(module, attr, None)
            if attr.startswith("__") or not isinstance(value, types.ModuleType):
                continue
            qualified = f"{name}.{attr}"
            module_attrs.setdefault(qualified, value.__name__ if qualified != "os.path" else "os.path")
    class_pure: dict[str, list[str]] = {}
    class_opaque: dict[str, list[str]] = {}
    for type_name, (paths, judged) in CLASSES.items():
        judged_names = set(judged.split())
        methods: set[str] = set()
        for path in paths:
            module_name, _, cls_name = path.rpartition(".")
            methods |= set(_public(getattr(importlib.import_module(module_name), cls_name)))
        class_pure[type_name] = sorted(m for m in methods if m in judged_names)
        class_opaque[type_name] = sorted(m for m in methods if m not in judged_names
                                         and f"{type_name}.{m}" not in _TABLE)
    out = io.StringIO()
    out.write('"""The closed world: generated by scripts/closed_world.py from the installed Python; do not edit.\n\n'
              "For each module that can reach the outside, its public names judged pure; every other public name\n"
              "is an operation — an entry of the catalogue, or one with the module's default effect (``DEFAULT``);\n"
              "a name in no list at all is an unknown operation of that module, outside every allow-list.\n"
              '"""\n\n')
    out.write("from __future__ import annotations\n\n")
    out.write('__all__ = ["CLASS_OPAQUE", "CLASS_PURE", "DEFAULT", "MODULE_ATTRS", "OPAQUE", "PURE"]\n\n\n')
    out.write("def _n(text: str) -> frozenset[str]:\n    return frozenset(text.split())\n\n\n")
    out.write("DEFAULT: dict[str, str] = {\n")
    for name, (default, _) in JUDGED.items():
        if name in pure:
            out.write(f'    "{name}": "{default}",\n')
    out.write("}\n\n")
    for label, table in (("PURE", pure), ("OPAQUE", opaque), ("CLASS_PURE", class_pure),
                         ("CLASS_OPAQUE", class_opaque)):
        out.write(f"{label}: dict[str, frozenset[str]] = {{\n")
        for name, names in table.items():
            out.write(f'    "{name}": _n({_wrap(names)}),\n')
        out.write("}\n\n")
    out.write("MODULE_ATTRS: dict[str, str] = {\n")
    for qualified, target in sorted(module_attrs.items()):
        out.write(f'    "{qualified}": "{target}",\n')
    out.write("}\n")
    return out.getvalue()


def _wrap(names: list[str]) -> str:
    if not names:
        return '""'
    lines, line = [], ""
    for word in names:
        if len(line) + len(word) > 96:
            lines.append(line)
            line = ""
        line += word + " "
    lines.append(line)
    body = "\n".join(f'        "{chunk}"' for chunk in lines)
    return f"\n{body}\n    "


if __name__ == "__main__":
    target = ROOT / "governed_agents" / "analysis" / "_closed.py"
    target.write_text(build())
    print(f"wrote {target.relative_to(ROOT)}")
