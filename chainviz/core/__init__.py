"""The runnable core: composition, config, events and execution. Standard library only."""

from chainviz.core.base import Runnable
from chainviz.core.cancel import CancelToken
from chainviz.core.coerce import coerce_to_runnable
from chainviz.core.config import RunnableConfig
from chainviz.core.configurable import (
    ConfigurableAlternatives,
    ConfigurableField,
    ConfigurableFields,
)
from chainviz.core.events import (
    CancelEvent,
    EndEvent,
    ErrorEvent,
    EventSink,
    RunEvent,
    StartEvent,
    TokenEvent,
)
from chainviz.core.lambdas import RunnableGenerator, RunnableLambda
from chainviz.core.parallel import RunnableMap, RunnableParallel
from chainviz.core.passthrough import RunnableAssign, RunnablePassthrough
from chainviz.core.run import Step
from chainviz.core.schema import InputSchema
from chainviz.core.sequence import RunnableSequence
from chainviz.core.wrappers import RunnableBinding, RunnableRetry, RunnableWithFallbacks

__all__ = [
    "CancelEvent",
    "CancelToken",
    "ConfigurableAlternatives",
    "ConfigurableField",
    "ConfigurableFields",
    "EndEvent",
    "ErrorEvent",
    "EventSink",
    "InputSchema",
    "RunEvent",
    "Runnable",
    "RunnableAssign",
    "RunnableBinding",
    "RunnableConfig",
    "RunnableGenerator",
    "RunnableLambda",
    "RunnableMap",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnableRetry",
    "RunnableSequence",
    "RunnableWithFallbacks",
    "StartEvent",
    "Step",
    "TokenEvent",
    "coerce_to_runnable",
]
