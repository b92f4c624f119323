"""The one error of metric math: an expression AWS (or this gateway) refuses.

``str(error)`` is the message the API answers with.  AWS documents no message texts for
metric math; the wording here is the gateway's own, in the form of its other parsers
(``composite_rules``): ``Error in expression e1 at position 4: <detail>.``  The CloudWatch
console shows the same situations as ``Error in expression e1 [Invalid syntax]``.
"""

from __future__ import annotations

#: The code the API answers with for an expression it refuses (a client error).
VALIDATION_ERROR = "ValidationError"


class MathError(ValueError):
    """An expression AWS refuses, or one this gateway cannot evaluate.

    - ``detail``: what is wrong, without the ``Error in expression ...`` frame.
    - ``position``: 1-based character position in the expression (None: the whole of it).
    - ``code``: the AWS error code to answer with.
    - ``per_result``: False for errors found while checking an expression (parse, kinds,
      references): GetMetricData fails as a whole, as AWS validates every expression
      before fetching data.  True for errors found only while evaluating it on data: the
      caller reports them on that query's result (a ``MetricDataResult`` message) and
      answers the rest of the request.
    - ``unsupported``: the expression is valid for AWS but uses a function this gateway
      refuses (SEARCH, LAMBDA, ...), so the caller can tell the two apart.
    - ``query_id``: the query whose expression this is ("" when not known yet).
    """

    def __init__(self, detail: str, *, position: int | None = None,
                 code: str = VALIDATION_ERROR, per_result: bool = False,
                 unsupported: bool = False, query_id: str = "") -> None:
        self.detail = detail
        self.position = position
        self.code = code
        self.per_result = per_result
        self.unsupported = unsupported
        self.query_id = query_id
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = "Error in expression"
        if self.query_id:
            where += f" {self.query_id}"
        if self.position is not None:
            where += f" at position {self.position}"
        return f"{where}: {self.detail}."

    def for_query(self, query_id: str) -> MathError:
        """The same error, naming the query it belongs to."""
        return MathError(self.detail, position=self.position, code=self.code,
                         per_result=self.per_result, unsupported=self.unsupported,
                         query_id=query_id)

    def at_evaluation(self) -> MathError:
        """The same error, found while evaluating (reported on the query's result)."""
        return MathError(self.detail, position=self.position, code=self.code,
                         per_result=True, unsupported=self.unsupported,
                         query_id=self.query_id)
