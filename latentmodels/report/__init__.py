"""The HTML report of a run: :mod:`.page` builds the page from section builders,
:mod:`.context` defines what a builder reads and returns, and :mod:`.sections` holds one
module of builders per family and use.

The run directory's format (``read_run``, ``write_run``, ...) lives in
:mod:`latentmodels.rundir`; its names are re-exported here for code written before the move.

Examples
--------
>>> from latentmodels import report
>>> [builder.__name__ for builder in report.SECTIONS][:3]
['summary_section', 'parameters_section', 'training_section']
"""

from ..rundir import (
    MODEL_FILE,
    REPORT_FILE,
    RUN_FILE,
    held_out_split,
    load_model,
    load_run_data,
    read_run,
    run_header,
    write_run,
)
from .context import ReportContext, ReportFigure, Section, encodes, is_hmm
from .page import SECTIONS, IndexEntry, write_index, write_report
from .sections.hmm import hmm_section
from .sections.summary import parameters_section, summary_section, training_section

__all__ = [
    "MODEL_FILE",
    "IndexEntry",
    "REPORT_FILE",
    "RUN_FILE",
    "SECTIONS",
    "ReportContext",
    "ReportFigure",
    "Section",
    "encodes",
    "held_out_split",
    "hmm_section",
    "is_hmm",
    "load_model",
    "load_run_data",
    "parameters_section",
    "read_run",
    "run_header",
    "summary_section",
    "training_section",
    "write_index",
    "write_report",
    "write_run",
]
