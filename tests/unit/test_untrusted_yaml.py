"""Bounds of the loader every YAML import goes through."""

import pytest

from portal.untrusted_yaml import UntrustedYamlError, load_all, load_one


def test_plain_documents_load_with_anchors_and_aliases():
    text = "base: &b {owner: team-a}\nother: *b\n---\nx: 1\n---\n"
    assert load_all(text) == [{"base": {"owner": "team-a"}, "other": {"owner": "team-a"}}, {"x": 1}]


def test_deep_nesting_is_refused_with_a_message_not_a_recursion_error():
    with pytest.raises(UntrustedYamlError, match="^The document is nested deeper than 64"):
        load_all("[" * 5000 + "]" * 5000)


def test_alias_bomb_is_refused_before_it_expands():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(UntrustedYamlError, match="too large once its aliases are expanded"):
        load_all("\n".join(lines))


def test_syntax_errors_and_nul_bytes_say_what_is_wrong():
    with pytest.raises(UntrustedYamlError, match="Not valid YAML"):
        load_all("a: [1, 2")
    with pytest.raises(UntrustedYamlError, match="NUL"):
        load_all("a: b\x00")


def test_python_tags_are_refused():
    with pytest.raises(UntrustedYamlError):
        load_all("!!python/object/apply:os.system ['true']")


def test_load_one_refuses_several_documents():
    assert load_one("") is None
    with pytest.raises(UntrustedYamlError, match="one YAML document"):
        load_one("a: 1\n---\nb: 2\n")


@pytest.mark.parametrize("text", ["n: " + "9" * 5000, "when: 2026-02-30"])
def test_scalars_that_cannot_be_built_are_refused_with_a_message(text):
    with pytest.raises(UntrustedYamlError, match="cannot be read"):
        load_all(text)
