"""Expressions: literals, contexts, loose equality, && / || operands, functions, interpolation, if: rules."""
from pathlib import Path

import pytest
import yaml

from gitopslab.ci import expressions
from gitopslab.ci.exprvalues import truthy

CASES = yaml.safe_load((Path(__file__).parent / "fixtures" / "expressions.yaml").read_text())
CONTEXTS = {
    "github": {"sha": "4ade9eaf", "ref": "refs/heads/master", "event_name": "push", "run_number": "3",
               "event": {"head_commit": {"message": "feat: titre"}}},
    "needs": {"build": {"result": "success", "outputs": {"image_tag": "4ade9ea"}},
              "test-acceptance": {"result": "success", "outputs": {}}},
    "env": {"IMAGE_TAG": "abc"},
    "secrets": {"GITOPS_PAT": "ghp_x"},
    "steps": {"generate_tag": {"outputs": {"tag": "4ade9ea"}}},
}


@pytest.mark.parametrize("case", CASES, ids=[c["expr"] for c in CASES])
def test_evaluate(case):
    assert expressions.evaluate(case["expr"], CONTEXTS) == case["want"]


@pytest.mark.parametrize("text,want", [
    ("tag=${{ steps.generate_tag.outputs.tag }}", "tag=4ade9ea"),
    ("${{needs.build.outputs.image_tag}}-${{ github.run_number }}", "4ade9ea-3"),
    ("no template", "no template"),
    ("${{ env.MISSING }}", ""),
    ("${{ 1 == 1 }}", "true"),
])
def test_interpolate(text, want):
    assert expressions.interpolate(text, CONTEXTS) == want


@pytest.mark.parametrize("condition,failed,want", [
    (None, False, True), (None, True, False),
    ("always()", True, True),
    ("${{ always() }}", True, True),
    ("failure()", True, True), ("failure()", False, False),
    ("github.ref == 'refs/heads/master'", False, True),
    ("github.ref == 'refs/heads/master'", True, False),   # success() && (...) is implied
    ("${{ github.ref == 'refs/heads/main' }}", False, False),
])
def test_if_conditions(condition, failed, want):
    functions = {"success": lambda: not failed, "failure": lambda: failed, "always": lambda: True,
                 "cancelled": lambda: False}
    source = expressions.condition_source(condition)
    assert truthy(expressions.evaluate(source, CONTEXTS, functions)) is want


@pytest.mark.parametrize("expr", ["github.", "(1 == 1", "1 ==", "unknown.value", "nofunc()"])
def test_errors(expr):
    with pytest.raises(expressions.ExpressionError):
        expressions.evaluate(expr, CONTEXTS)
