"""Post-processing of raw FIM answers (assistant.completion_text): each rule on the failure it exists for."""

from __future__ import annotations

import pytest

from assistant.completion_text import (
    balance_brackets,
    clean_completion,
    continue_suggestion,
    cursor_context,
    trim_dedent,
    trim_line_overlap,
    trim_repetition,
    wants_multiline,
)


@pytest.mark.parametrize(
    ("line_prefix", "line_suffix", "expected"),
    [
        ("    ", "", True),  # empty line in a block: a new statement, maybe several lines
        ("def f(x):", "", True),  # a block opener: the body comes next
        ("items = {", "", True),
        ("    return foo", "", False),  # mid-statement: finish this line only
        ("print(", ")", False),  # text after the cursor: never push it down
        ("", "  ", True),  # trailing spaces after the cursor do not count
    ],
)
def test_multiline_only_where_a_statement_or_block_starts(
    line_prefix: str, line_suffix: str, expected: bool
) -> None:
    assert wants_multiline(line_prefix, line_suffix) is expected


def test_cursor_context_splits_the_cursor_line() -> None:
    ctx = cursor_context("a = 1\nb = fo", "o(x)\nc = 2\n")
    assert (ctx.line_prefix, ctx.line_suffix, ctx.multiline) == ("b = fo", "o(x)", False)


def test_single_line_mode_stops_at_the_newline() -> None:
    assert clean_completion("bar(1)\nmore()", "x = ", "\n", multiline=False) == "bar(1)"


def test_single_line_answer_starting_with_a_newline_is_empty() -> None:
    assert clean_completion("\n    pass", "x = ", "\n", multiline=False) == ""


def test_repeating_the_next_line_is_cut() -> None:
    before = "def f(a, b):\n    "
    after = "\n    return total\n"
    raw = "total = a + b\n    return total\n\ndef g():\n    pass"
    assert clean_completion(raw, before, after, multiline=True) == "total = a + b"


def test_a_completion_that_leaves_the_block_is_cut_at_the_dedent() -> None:
    before = "class A:\n    def f(self):\n        "
    raw = "x = 1\n        return x\n\nclass B:\n    pass"
    assert trim_dedent(raw, "        ", "        ") == "x = 1\n        return x\n"
    assert clean_completion(raw, before, "", multiline=True) == "x = 1\n        return x"


def test_block_opener_keeps_the_deeper_body() -> None:
    before = "def f(x):"
    raw = "\n    if x:\n        return 1\n    return 2\nprint(f(1))"
    assert (
        clean_completion(raw, before, "\n", multiline=True) == "\n    if x:\n        return 1\n    return 2"
    )


@pytest.mark.parametrize(
    ("completion", "rest", "expected"),
    [
        ("a, b)", ")", "a, b"),  # foo(|) answered with "a, b)"
        ('name")', '")', "name"),  # inside a string and a call
        ("x + 1):", "):", "x + 1"),
        ("foo", "o.bar()", "foo"),  # letters are never dropped as "overlap"
        ("value", "", "value"),
    ],
)
def test_overlap_with_the_rest_of_the_line(completion: str, rest: str, expected: str) -> None:
    assert trim_line_overlap(completion, rest) == expected


def test_brackets_already_closed_after_the_cursor_are_not_closed_again() -> None:
    # foo(bar(|)) — both parentheses are closed by the text after the cursor.
    assert balance_brackets("x))", "foo(bar(", "))\n") == "x"
    # foo(| — the completion may close the open parenthesis.
    assert balance_brackets("x)", "foo(", "\n") == "x)"
    # A closer that matches nothing at all ends the completion.
    assert balance_brackets("1]\nprint()", "x = ", "\n") == "1"
    # Mismatched pair inside the completion.
    assert balance_brackets("(a]", "", "") == "(a"


def test_brackets_in_strings_and_comments_are_ignored() -> None:
    assert balance_brackets('")" + x)', "print(", "\n") == '")" + x)'
    assert balance_brackets("x)  # )", "f(", "\n") == "x)  # )"
    # The cursor is inside a string: its closing quote is the completion's first character.
    assert balance_brackets('world")', 'print("hello ', "\n") == 'world")'


def test_repetition_of_the_following_line_from_the_cursor_line() -> None:
    assert trim_repetition("return x", "    ", "\n    return x\n") == ""
    assert trim_repetition("y = 2\nreturn x", "    ", "\n    return x\n") == "y = 2"


def test_trailing_whitespace_and_blank_lines_are_removed() -> None:
    assert clean_completion("x = 1   \n\n   \n", "", "", multiline=True) == "x = 1"


def test_stop_strings_leaking_through_raw_mode_are_cut() -> None:
    assert (
        clean_completion("abc<|endoftext|>junk", "x = ", "", multiline=False, stops=["<|endoftext|>"])
        == "abc"
    )


def test_whitespace_only_answer_is_nothing() -> None:
    assert clean_completion("   \n  ", "x = ", "", multiline=True) == ""


def test_crlf_is_normalised() -> None:
    assert clean_completion("a\r\nb", "", "", multiline=True) == "a\nb"


def test_typed_ahead_serves_the_rest_of_the_suggestion() -> None:
    assert continue_suggestion("x = ", "\n", "compute(1)", "x = com", "\n") == "pute(1)"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("x = cam", "\n"),  # typed something else
        ("x = compute(1)", "\n"),  # typed all of it: nothing left to show
        ("x = com", "\nchanged"),  # the text after the cursor changed
        ("y = com", "\n"),  # edited before the old cursor
    ],
)
def test_typed_ahead_does_not_apply(before: str, after: str) -> None:
    assert continue_suggestion("x = ", "\n", "compute(1)", before, after) is None


def test_block_opener_keeps_its_closing_bracket() -> None:
    before = "    items = {"
    raw = '\n        "a": 1,\n    }\n    other = 2'
    assert clean_completion(raw, before, "\n", multiline=True) == '\n        "a": 1,\n    }'


def test_an_assignment_in_progress_is_single_line() -> None:
    assert wants_multiline("        total += ", "") is False
    assert wants_multiline("x = ", "") is False
