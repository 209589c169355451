"""The built-in stages of every stack (naming, logging, exceptions, validation, dependencies) and the
one order they run in. They are configured through ``wrap()`` and compiled into each entry by the
chain; they are not user middleware.
"""

from .dependencies import DependenciesStage
from .exceptions import ExceptionStage
from .logging import LoggingStage
from .naming import NamingStage
from .stage import Stage
from .validation import ValidationStage

__all__ = ["DependenciesStage", "ExceptionStage", "LoggingStage", "NamingStage", "Stage", "ValidationStage"]
