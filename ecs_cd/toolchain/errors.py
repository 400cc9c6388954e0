"""The one error type the tooling raises for problems a user must fix."""


class ToolError(Exception):
    """A missing tool or a failed step, phrased as one actionable message."""
