"""Input and output: challenge layouts, image decoding, tables and atomic writers."""

from synthprint.io.dataset import (
    Benchmark,
    ImageDataset,
    MembershipData,
    list_folder,
    load_benchmark,
    load_dataset,
    load_folder,
    load_split,
    membership_data,
    read_truth_folder,
    summarize_notes,
)
from synthprint.io.inspect import BenchmarkSummary, SplitSummary, demo_path, summarize
from synthprint.io.decode import IMAGE_SIZE, DecodeNote, decode_image, is_image_file, read_header
from synthprint.io.layouts import (
    LAYOUT_FOLDERS,
    LAYOUTS,
    UNKNOWN_LABEL,
    BenchmarkLayout,
    FolderSpec,
    Layout,
    Role,
    detect_layout,
    natural_key,
)
from synthprint.io.submission import format_run, write_run, write_submission
from synthprint.io.tables import labels_for, read_labels_csv
from synthprint.io.validator import ValidationReport, validate_run
from synthprint.io.writers import (
    atomic_write_bytes,
    atomic_write_text,
    check_can_write,
    prepare_output_dir,
    remove_stale_outputs,
)

__all__ = [
    "IMAGE_SIZE",
    "LAYOUT_FOLDERS",
    "LAYOUTS",
    "UNKNOWN_LABEL",
    "Benchmark",
    "BenchmarkSummary",
    "SplitSummary",
    "demo_path",
    "summarize",
    "BenchmarkLayout",
    "DecodeNote",
    "FolderSpec",
    "ImageDataset",
    "MembershipData",
    "Layout",
    "Role",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_can_write",
    "decode_image",
    "detect_layout",
    "is_image_file",
    "list_folder",
    "load_benchmark",
    "load_dataset",
    "load_folder",
    "load_split",
    "membership_data",
    "natural_key",
    "prepare_output_dir",
    "remove_stale_outputs",
    "read_header",
    "labels_for",
    "read_labels_csv",
    "read_truth_folder",
    "summarize_notes",
    "format_run",
    "write_run",
    "write_submission",
    "ValidationReport",
    "validate_run",
]
