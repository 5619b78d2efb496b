"""allowed_file_paths globs read the way shells and pathlib read them."""

from __future__ import annotations

import pytest

from governed_agents.policy._match import path_allowed


@pytest.mark.parametrize(
    ("path", "pattern", "allowed"),
    [
        ("/srv/a.csv", "/srv/*.csv", True),
        ("/srv/sub/a.csv", "/srv/*.csv", False),  # `*` stays within one directory
        ("/srv/sub/deeper/a.csv", "/srv/**/*.csv", True),  # `**` crosses directories
        ("/srv/a.csv", "/srv/**/*.csv", True),
        ("/data/x/y/z", "/data/*", True),  # a matched directory covers its subtree
        ("/data", "/data/*", False),
        ("/tmp/f1", "/tmp/f[0-9]", True),
        ("/tmp/f1", "/tmp/f[!0-9]", False),
        ("/etc/passwd", "/tmp/*", False),
        (None, "/tmp/*", False),  # a path the analyser could not determine is outside every list
        ("/etc/passwd", "*", True),  # "*" alone is anywhere
        ("/srv/a/b.csv", "/srv/a[!x]b.csv", False),  # a class never matches "/"
    ],
)
def test_path_globs(path, pattern, allowed):
    assert path_allowed(path, (pattern,)) is allowed
