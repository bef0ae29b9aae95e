"""Generation pieces that need no server: layouts, stitching, fences, atomic and no-clobber writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from assistant.errors import InputError
from assistant.generate import (
    CHATML,
    LLAMA3,
    Step,
    StepResult,
    chat_layout,
    check_writable,
    finished,
    generate_long,
    next_step,
    save_partial,
    stitch,
    strip_fence,
    write_atomic,
)
from assistant.templating import fill, placeholders, render_prompt

QWEN_TEMPLATE = (
    "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    "<|im_start|>user\n{{ .Prompt }}<|im_end|>\n<|im_start|>assistant\n"
)
LLAMA_TEMPLATE = (
    "<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n"
)


def test_chat_layout_from_template() -> None:
    assert chat_layout(QWEN_TEMPLATE) is CHATML
    assert chat_layout(LLAMA_TEMPLATE) is LLAMA3
    assert chat_layout("{{ .Prompt }}") is None


def test_raw_continuation_prefills_the_assistant_turn() -> None:
    first = next_step("write x.py", "", CHATML)
    assert first == Step("<|im_start|>user\nwrite x.py<|im_end|>\n<|im_start|>assistant\n", raw=True)
    more = next_step("write x.py", "def f():\n    ret", CHATML)
    assert more.raw and more.prompt.endswith("<|im_start|>assistant\ndef f():\n    ret")


def test_raw_layouts_carry_the_system_turn() -> None:
    """Raw mode skips the server's template, so the Modelfile's SYSTEM must be put in by us."""
    step = next_step("write x.py", "", CHATML, "Be careful.")
    assert step.prompt == (
        "<|im_start|>system\nBe careful.<|im_end|>\n<|im_start|>user\nwrite x.py<|im_end|>\n<|im_start|>assistant\n"
    )
    step = next_step("write x.py", "x =", LLAMA3, "Be careful.")
    assert step.prompt.startswith("<|start_header_id|>system<|end_header_id|>\n\nBe careful.<|eot_id|>")
    assert step.prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\nx =")


def test_templated_continuation_shows_the_tail() -> None:
    assert next_step("write x.py", "", None) == Step("write x.py", raw=False)
    step = next_step("write x.py", "a" * 5000 + "TAIL", None)
    assert not step.raw and step.prompt.startswith("write x.py") and step.prompt.endswith("TAIL")
    assert len(step.prompt) < 2000


def test_stitch() -> None:
    assert stitch("def f():\n    ret", "urn 1\n", exact=True) == "def f():\n    return 1\n"
    partial = "line one of the file\nline two of the file\n"
    assert stitch(partial, "line two of the file\nline three\n", exact=False) == partial + "line three\n"
    # A short coincidental overlap is not cut.
    assert stitch("x = 1\n", "\ny = 2\n", exact=False) == "x = 1\n\ny = 2\n"


def test_finished() -> None:
    assert finished(StepResult("x", True, "stop"))
    assert not finished(StepResult("x", True, "length"))
    assert not finished(StepResult("x", False, None))


async def test_generate_long_continues_until_the_model_stops() -> None:
    replies = [
        StepResult("def f():\n", True, "length"),
        StepResult("    ", False, None),
        StepResult("pass\n", True, "stop"),
    ]
    seen: list[Step] = []

    async def run(step: Step) -> StepResult:
        seen.append(step)
        return replies[len(seen) - 1]

    out = await generate_long("spec", run, layout=CHATML, max_continuations=5)
    assert (out.text, out.requests, out.complete) == ("def f():\n    pass\n", 3, True)
    assert seen[2].prompt.endswith("assistant\ndef f():\n    ")


async def test_generate_long_gives_up_but_keeps_the_text() -> None:
    async def run(step: Step) -> StepResult:
        return StepResult("x", True, "length")

    out = await generate_long("spec", run, layout=CHATML, max_continuations=2)
    assert (out.text, out.requests, out.complete) == ("xxx", 3, False)

    async def empty(step: Step) -> StepResult:
        return StepResult("", False, None)

    out = await generate_long("spec", empty, layout=None, max_continuations=9)
    assert (out.requests, out.complete) == (1, False)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("```python\nx = 1\n```\n", "x = 1\n"),
        ("```\nx = 1\n```", "x = 1\n"),
        ("x = 1", "x = 1\n"),
        ("\n\nx = 1\n\n\n", "x = 1\n"),
        ("```python\nx = 1\ny = 2", "x = 1\ny = 2\n"),  # a fence whose end was never written
        ("  ", ""),
    ],
)
def test_strip_fence(answer: str, expected: str) -> None:
    assert strip_fence(answer) == expected


def test_write_atomic_new_file_and_refusal(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "new.py"
    write_atomic(target, "a = 1\n", overwrite=False)
    assert target.read_text() == "a = 1\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    with pytest.raises(InputError, match="already exists; pass --force"):
        write_atomic(target, "b = 2\n", overwrite=False)
    assert target.read_text() == "a = 1\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["new.py"]  # no temp file left behind


def test_write_atomic_overwrite_keeps_mode_and_follows_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real.sh"
    real.write_text("old\n")
    real.chmod(0o750)
    link = tmp_path / "link.sh"
    link.symlink_to(real)
    write_atomic(link, "new\n", overwrite=True)
    assert link.is_symlink() and real.read_text() == "new\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.sh", "real.sh"]


def test_check_writable(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text("")
    with pytest.raises(InputError, match="already exists"):
        check_writable(tmp_path / "x.py", overwrite=False)
    check_writable(tmp_path / "x.py", overwrite=True)
    with pytest.raises(InputError, match="is a folder"):
        check_writable(tmp_path, overwrite=True)
    check_writable(tmp_path / "new" / "deep" / "y.py", overwrite=False)


def test_save_partial_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "big.py"
    a = save_partial(target, "part")
    b = save_partial(target, "part 2")
    assert a != b and a.read_text() == "part" and b.read_text() == "part 2"
    assert not target.exists()


def test_templating() -> None:
    assert fill('a {x} {"k": 1} {y}', {"x": "{y}", "y": "2"}) == 'a {y} {"k": 1} 2'
    with pytest.raises(Exception, match="missing values: y"):
        fill("{x} {y}", {"x": "1"})
    with pytest.raises(Exception, match="unknown placeholders: z"):
        fill("{x}", {"x": "1", "z": "2"})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("review", ["code", "context", "project", "scope"]),
        ("review-merge", ["findings", "project"]),
        ("generate", ["context", "existing", "instruction", "language", "path", "project"]),
        ("explain", ["code", "context", "path", "project"]),
    ],
)
def test_shipped_prompts_have_their_placeholders(name: str, expected: list[str]) -> None:
    from assistant.resources import load_prompt

    assert placeholders(load_prompt(name)) == expected
    text = render_prompt(name, dict.fromkeys(expected, "VALUE"))
    assert "VALUE" in text and "{" + expected[0] + "}" not in text
