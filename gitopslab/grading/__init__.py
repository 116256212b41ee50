"""Exam checks shared by the learner's self-check (``verifier()``), the nbgrader tests and batch grading."""
