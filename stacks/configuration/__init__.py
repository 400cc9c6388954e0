"""The configuration loader, in the order data flows through it.

``model``: the file's tables and the validated settings; ``merge``: a service's base table with
an environment's override, and a record of which of the two wrote each value; ``build``: a
merged service checked against the constructs' own props; ``checks``: rules between
environments; ``errors``: every problem as one "file: field = value: what is allowed" line;
``loader``: the steps from a parsed file to ``Settings``. ``stacks.settings`` re-exports what
the rest of the project imports, so callers do not depend on this layout.
"""
