"""CloudWatch metric math: parse, check and evaluate the ``Expression`` of a
``MetricDataQuery`` exactly as GetMetricData does, and label the results.

Modules, one job each: ``lexer`` (tokens), ``parser`` (syntax trees of ``nodes``, and
back to text), ``pointwise`` (operators over scalars, series and arrays), ``timegrid``
(the request's regular timestamps), ``functions`` (the function catalogue),
``evaluation`` (kinds, order, evaluation), ``labels`` (result and dynamic labels),
``series`` (the values), ``errors`` (``MathError``).

Source: AWS CloudWatch user guide, "Metric math syntax and functions", "Using IF
expressions", "Use dynamic labels"; API reference, GetMetricData, MetricDataQuery,
MetricDataResult, MessageData, LabelOptions.
"""

from cfn_gateway.domain.metric_math.errors import VALIDATION_ERROR, MathError
from cfn_gateway.domain.metric_math.evaluation import (
    check,
    check_queries,
    evaluate,
    evaluation_order,
)
from cfn_gateway.domain.metric_math.functions import FUNCTIONS, KEYWORDS, REFUSED
from cfn_gateway.domain.metric_math.labels import (
    PLACEHOLDERS,
    label_result,
    parse_timezone,
    render_label,
)
from cfn_gateway.domain.metric_math.nodes import Expression
from cfn_gateway.domain.metric_math.parser import (
    MAX_DEPTH,
    MAX_LENGTH,
    parse,
    references,
    render,
    uses_metrics_function,
)
from cfn_gateway.domain.metric_math.series import (
    ARITHMETIC_ERROR,
    Kind,
    MessageData,
    Series,
)

__all__ = [
    "ARITHMETIC_ERROR",
    "FUNCTIONS",
    "KEYWORDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "PLACEHOLDERS",
    "REFUSED",
    "VALIDATION_ERROR",
    "Expression",
    "Kind",
    "MathError",
    "MessageData",
    "Series",
    "check",
    "check_queries",
    "evaluate",
    "evaluation_order",
    "label_result",
    "parse",
    "parse_timezone",
    "references",
    "render",
    "render_label",
    "uses_metrics_function",
]
