"""Feedback without the hidden tests: nbgrader's feedback HTML would show them verbatim."""
from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

HIDDEN_PLACEHOLDER = "# (vérifications cachées de la correction)"


def strip_hidden_tests(source: str, begin: str = "### BEGIN HIDDEN TESTS",
                       end: str = "### END HIDDEN TESTS", placeholder: str = HIDDEN_PLACEHOLDER) -> str:
    """Replace each hidden-test region (markers included) by ``placeholder`` (pure)."""
    out, hidden = [], False
    for line in source.splitlines():
        if begin in line:
            hidden = True
            out.append(line[:len(line) - len(line.lstrip())] + placeholder)
            continue
        if end in line and hidden:
            hidden = False
            continue
        if not hidden:
            out.append(line)
    return "\n".join(out)


class StripHiddenTests(Preprocessor):
    """Removes hidden tests from every cell's source before the feedback HTML is written."""

    enabled = Bool(True).tag(config=True)  # nbconvert preprocessors are off unless enabled
    begin_hidden_tests_delimeter = Unicode("### BEGIN HIDDEN TESTS").tag(config=True)
    end_hidden_tests_delimeter = Unicode("### END HIDDEN TESTS").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if self.begin_hidden_tests_delimeter in cell.source:
            cell.source = strip_hidden_tests(cell.source, self.begin_hidden_tests_delimeter,
                                             self.end_hidden_tests_delimeter)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    # a traceback frame quotes the cell's lines around the failing call
                    output["traceback"] = [frame for frame in output.get("traceback", [])
                                           if "run_fresh(" not in frame and "HIDDEN" not in frame]
        return cell, resources
