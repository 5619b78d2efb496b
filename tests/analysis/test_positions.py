"""Where an operation is reported (the line and column a user is pointed at), and text Python refuses."""

import pytest

from governed_agents import analyze


def where(code: str, type_: str) -> list[tuple[int, int]]:
    return [(op.line, op.column) for op in analyze(code).operations if op.type == type_]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # the callee's text first stands inside a string or a comment
        ("import os\nprint('os.system(')  # os.system(\nos.system('ls')\n", [(3, 1)]),
        ("import os\nx = '''\nos.system('ls')\n'''\nos.system('ls')\n", [(5, 1)]),
        ('import os\nx = "a \\" os.system("\nos.system("ls")\n', [(3, 1)]),
        ("import os\nx = f'{1}os.system('\nos.system('ls')\n", [(3, 1)]),
        # ... or as the tail of an attribute of something else
        ("import os\nthing.os.system('x')\nos.system('ls')\n", [(3, 1)]),
        # the same call on every line
        ("import os\n" + "os.system('ls')\n" * 5, [(n, 1) for n in range(2, 7)]),
        ("import os\nos.system('a'); os.system('a')\n", [(2, 1), (2, 17)]),
    ],
)
def test_a_process_spawn_is_reported_where_it_is_written(code, expected):
    assert where(code, "process_spawn") == expected


def test_an_alias_is_reported_where_it_is_used_not_where_it_is_bound():
    code = "import psutil\nfor p in psutil.process_iter():\n    info = p.info\n    pid = info['pid']\n"
    assert where(code, "function_call") == [(2, 10), (4, 11)]


def test_environment_subscripts_are_located_on_their_own_lines():
    code = "import os\nhome = os.environ['HOME']\n# os.environ['X']\nuser = os.environ ['USER']\n"
    assert where(code, "environment_access") == [(2, 8), (4, 8)]


def test_dense_code_reports_every_line():
    lines = ["os.system('ls')", "open('/etc/passwd').read()", "os.remove('/tmp/x')"] * 50
    code = "import os\n" + "\n".join(lines) + "\n"
    ops = [op for op in analyze(code).operations if op.type != "module_import"]
    assert [op.line for op in ops] == list(range(2, 152))


def test_a_null_byte_python_refuses_is_unresolved_even_in_a_comment():
    ir = analyze("import os\nos.system('ls')  #\x00\n")
    assert ir.unresolved and ir.unresolved[0].kind == "parse_error" and ir.unresolved[0].line == 2
