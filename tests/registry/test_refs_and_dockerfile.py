"""Pure parts: references, Dockerfile parsing, .dockerignore, layers."""
import pytest

from gitopslab.registry import layers, refs
from gitopslab.registry.context import BuildContext
from gitopslab.registry.dockerfile import DockerfileError, expand, parse


@pytest.mark.parametrize("ref, normalized", [
    ("nginx", "docker.io/library/nginx:latest"),
    ("user/app:tag", "docker.io/user/app:tag"),
    ("docker.io/library/python:3.9-slim", "docker.io/library/python:3.9-slim"),
    ("ghcr.io/org/app", "ghcr.io/org/app:latest"),
    ("localhost:5000/app:1", "localhost:5000/app:1"),
])
def test_normalize_ref(ref, normalized):
    assert refs.normalize_ref(ref) == normalized


@pytest.mark.parametrize("bad", ["Nginx", "", "a:b:c", "user/App"])
def test_invalid_references(bad):
    with pytest.raises(refs.InvalidReference):
        refs.parse(bad)


@pytest.mark.parametrize("text, message", [
    ("FROM nginx\nFORM x\n", "dockerfile parse error on line 2: unknown instruction: FORM (did you mean FROM?)"),
    ("FROM nginx\n\nCOPY app.py\n", "dockerfile parse error on line 3: COPY requires at least two arguments, "
                                   "but only one was provided. Destination could not be determined"),
    ("FROM a b\n", "dockerfile parse error on line 1: FROM requires either one or three arguments"),
    ("   \n", "the Dockerfile (Dockerfile) cannot be empty"),
    ("RUN echo\n", "no build stage in current context"),
])
def test_dockerfile_errors(text, message):
    with pytest.raises(DockerfileError) as error:
        parse(text)
    assert str(error.value) == message


def test_continuation_lines_and_forms():
    instructions = parse('FROM python:3.9-slim\nRUN pip install \\\n    flask\nCMD ["python", "app.py"]\n')
    assert [i.line for i in instructions] == [1, 2, 4]
    assert instructions[2].json_args == ["python", "app.py"]
    assert instructions[1].json_args is None


def test_variable_expansion():
    assert expand("$A ${B:-x} ${A:+y} \\$A", {"A": "1"}) == "1 x y $A"


def test_dockerignore(tmp_path):
    for path in ("app.py", "requirements.txt", ".venv/lib/x.py", "docs/a.md", "docs/keep.md", "sub/.env"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(path)
    (tmp_path / ".dockerignore").write_text(".venv\ndocs\n!docs/keep.md\n**/.env\n")
    files = BuildContext.load(tmp_path).files
    assert "app.py" in files and "docs/keep.md" in files
    assert not any(p.startswith(".venv") for p in files)
    assert "docs/a.md" not in files and "sub/.env" not in files


def test_layer_tars_are_deterministic():
    files = {"app/b.py": layers.Entry("file", 0o644, b"b"), "app/a.py": layers.Entry("file", 0o755, b"a")}
    assert layers.make_tar(files) == layers.make_tar(dict(reversed(list(files.items()))))
    assert layers.read_tar(layers.make_tar(files))["app/a.py"].data == b"a"
