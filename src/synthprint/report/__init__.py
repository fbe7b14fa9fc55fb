"""A self-contained HTML report of a run: metrics, ROC, histograms, galleries, tables."""

from synthprint.report.html import REPORT_NAME, render_report, write_report
from synthprint.report.record import RECORD_NAME, load_record, new_record, save_record

__all__ = ["RECORD_NAME", "REPORT_NAME", "load_record", "new_record", "render_report",
           "save_record", "write_report"]
