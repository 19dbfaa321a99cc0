import pytest
import yaml

from tabletop.scenario import yaml_source
from tabletop.scenario.yaml_source import parse_yaml, read_file


def problems(text) -> list[str]:
    source, found = parse_yaml(text, "f.yaml")
    return [p.format() for p in found]


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="the messages are libyaml's")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:\n\tb: 1\n", "f.yaml:2:1: YAML syntax: a tab character; YAML must be indented with spaces, not tabs"),
        ("a: [1, 2\nb: 3\n", "f.yaml:2:2: YAML syntax: expected ',' or ']' (is the list closed?) (in the flow sequence that starts at line 1, column 4)"),
        ("a: b: c\n", "f.yaml:1:5: YAML syntax: unexpected ':' (quote a value that contains ': ', or check the indentation)"),
        ("a:\n  b: 1\n c: 2\n", "f.yaml:3:2: YAML syntax: expected a key here (check the indentation) (in the block mapping that starts at line 1, column 1)"),
        ('a: "x\n', "f.yaml:2:1: YAML syntax: found unexpected end of stream (in the quoted scalar that starts at line 1, column 4)"),
        ("a: 1\n---\nb: 2\n", "f.yaml:2:1: YAML syntax: expected a single YAML document, found a second one ('---')"),
        ("a: *x\n", "f.yaml:1:4: YAML syntax: alias *x has no anchor &x before it"),
        ("a: b\x00\n", "f.yaml:1:5: character U+0000 is not allowed in YAML text"),
        ("", "f.yaml:1:1: the file is empty; expected a YAML mapping (key: value lines)"),
        ("# only a comment\n", "f.yaml:1:1: the file is empty; expected a YAML mapping (key: value lines)"),
        ("- a\n- b\n", "f.yaml:1:1: expected a mapping (key: value lines) at the top level, got a list"),
        ("just text\n", "f.yaml:1:1: expected a mapping (key: value lines) at the top level, got the value 'just text'"),
        (b"a: 1\nb: \xff\n", "f.yaml:2:4: the file is not UTF-8 text (byte 0xff cannot be decoded)"),
    ],
)
def test_unreadable_documents(text, expected):
    source, found = parse_yaml(text, "f.yaml")
    assert source is None
    assert [p.format() for p in found] == [expected]


def test_duplicate_keys_are_errors_and_the_first_value_is_kept():
    source, found = parse_yaml("a: 1\nb:\n  c: 2\n  c: 3\na: 4\n", "f.yaml")
    assert source.data == {"a": 1, "b": {"c": 2}}
    assert [p.format() for p in found] == [
        "f.yaml:4:3: b.c: duplicate key 'c' (first written at line 3)",
        "f.yaml:5:1: a: duplicate key 'a' (first written at line 1)",
    ]


def test_keys_must_be_strings():
    assert problems("1: a\nyes: b\n~: c\n? [x]\n: d\nok: e\n") == [
        'f.yaml:1:1: key 1 is read as a number, not a string; write it in quotes: "1"',
        'f.yaml:2:1: key yes is read as a boolean, not a string; write it in quotes: "yes"',
        'f.yaml:3:1: key ~ is read as null, not a string; write it in quotes: "~"',
        "f.yaml:4:3: a key must be a plain string, not a list",
    ]


def test_bad_scalars_and_tags():
    assert problems("a: !!int abc\nb: !custom 1\nc: 2026-13-45\n") == [
        "f.yaml:1:4: a: 'abc' cannot be read as !!int (invalid literal for int() with base 10: 'abc')",
        "f.yaml:2:4: b: unsupported YAML tag '!custom'",
        "f.yaml:3:4: c: '2026-13-45' cannot be read as !!timestamp (month must be in 1..12)",
    ]


def test_alias_bomb_is_stopped():
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n" for prev, name in zip("abcdefgh", "bcdefghi")
    )
    source, found = parse_yaml(text, "f.yaml")
    assert source is None
    assert len(found) == 1 and "has more than 100000 values" in found[0].message


def test_recursive_alias():
    source, found = parse_yaml("a: &x [1, *x]\n", "f.yaml")
    assert [p.format() for p in found] == ["f.yaml:1:4: a[1]: an alias refers to the value that contains it (recursive alias)"]


def test_deep_nesting_and_huge_documents(monkeypatch):
    assert problems("a: " + "[" * 100 + "]" * 100 + "\n") == ["f.yaml:1:68: the document is nested more than 64 levels deep"]
    assert problems("a: " + "[" * 5000 + "]" * 5000 + "\n")[0].startswith("f.yaml:1:")
    monkeypatch.setattr(yaml_source, "MAX_VALUES", 100)
    assert problems("a: [" + ", ".join(["1"] * 200) + "]\n") == ["f.yaml:1:299: the document has more than 100 values once aliases are expanded"]
    monkeypatch.setattr(yaml_source, "MAX_BYTES", 10)
    assert problems(b"a: 12345678901\n") == ["f.yaml:1:1: the file is larger than 0 MiB; input files are small text files"]


def test_merge_keys():
    source, found = parse_yaml("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert found == []
    assert source.data["d"] == {"y": 3, "x": 1}


def test_positions_of_keys_and_values():
    text = "top:\n  list:\n    - name: a\n      flow: {p: 1, q: [x, y]}\n  block: |\n    line one\n    line two\n"
    source, found = parse_yaml(text, "f.yaml")
    assert found == []
    assert source.position(("top", "list", 0, "name")) == (3, 13)
    assert source.position(("top", "list", 0, "name"), key=True) == (3, 7)
    assert source.position(("top", "list", 0)) == (3, 7)
    assert source.position(("top", "list", 0, "flow")) == (4, 7)  # a mapping: at its key
    assert source.position(("top", "list", 0, "flow", "q", 1)) == (4, 27)
    assert source.position(("top", "missing", "deeper")) == (1, 1)  # nearest parent's key
    assert source.offset_position(("top", "block"), 0) == (6, 5)
    assert source.offset_position(("top", "block"), 14) == (7, 10)


def test_offset_position_in_quoted_and_folded_scalars():
    text = "a: 'it''s ok'\nb: >\n  folded\n  text\nc: \"x y\"\n"
    source, _ = parse_yaml(text, "f.yaml")
    assert source.offset_position(("a",), 5) == (1, 11)
    assert source.offset_position(("b",), 7) == (4, 3)
    assert source.offset_position(("c",), 2) == (5, 7)


def test_read_file_reasons(tmp_path):
    assert read_file(tmp_path / "nope.yaml") == (None, "file not found")
    assert read_file(tmp_path) == (None, "a directory, not a file")
    (tmp_path / "x.yaml").write_bytes(b"a: 1\n")
    assert read_file(tmp_path / "x.yaml") == (b"a: 1\n", None)
