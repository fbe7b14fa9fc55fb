"""Write outputs atomically (temp file in the same folder, then rename), never clobbering."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from synthprint.errors import OutputExistsError, SynthprintError

try:
    import fcntl
except ImportError:  # Windows: runs sharing an --out are not serialised
    fcntl = None


def check_can_write(path: str | Path, force: bool = False) -> Path:
    """Raise :class:`OutputExistsError` if ``path`` exists (a link counts, even one to
    nothing) and ``force`` is false."""
    path = Path(path)
    if _exists(path) and not force:
        raise OutputExistsError(f"{path}: exists already; pass --force (force=True in Python) "
                                "to overwrite it")
    return path


def _create_temp(path: Path) -> tuple[int, str]:
    """A new, empty temporary file beside ``path``: (descriptor, name). Created with mode
    0o666, so the process umask applies as for any ordinary file (without touching the
    process-wide umask, which other threads share)."""
    while True:
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def atomic_write_bytes(path: str | Path, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file and :func:`os.replace`.

    The folder is created if missing. Readers never see a half-written file, and an existing
    file is kept unless ``force``.
    """
    path = check_can_write(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path: str | Path, text: str, *, force: bool = False) -> Path:
    """Write ``text`` as UTF-8 with ``\\n`` line ends (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode("utf-8"), force=force)


def _check_writable(folder: Path, out: Path) -> None:
    """Raise unless a folder can be made in ``folder`` (tried, then removed): before any
    work, rather than at the first write, after it."""
    try:
        Path(tempfile.mkdtemp(prefix=".synthprint-probe-", dir=folder)).rmdir()
    except OSError as exc:
        raise SynthprintError(f"{out}: cannot write in {folder} ({exc.strerror or exc}); "
                              "choose an --out where you can write") from None


def check_outside_data(path: str | Path, inputs: Iterable[str | Path], option: str) -> None:
    """Raise when the folder ``path`` (given as ``option``) is one of the data folders
    ``inputs`` or lies inside one: nothing is ever written into the data."""
    where = Path(path).resolve()
    for folder in inputs:
        if where.is_relative_to(Path(folder).resolve()):
            raise SynthprintError(f"{path}: is inside the input folder {folder}; synthprint "
                                  f"never writes into the data: give {option} a folder "
                                  "outside it")


def prepare_output_dir(out: str | Path, names: Iterable[str], *, force: bool = False,
                       stale: Iterable[str] = (), inputs: Iterable[str | Path] = (),
                       input_files: Iterable[str | Path | None] = ()) -> Path:
    """Check, before any work, that ``out`` can be a folder and that none of ``names`` exists
    in it unless ``force``.

    Checking every output before writing the first means a refused run writes nothing. The
    folder itself is not created here (only probed for writing: a folder is made in it, or
    in its nearest existing parent, and removed), so a run that fails on its inputs leaves
    no empty folder behind; :func:`staged_outputs` creates it when the outputs are written.

    ``stale``: the command's other outputs, which this run does not write (a report without
    ``--report``); they block an unforced run like ``names``, since an earlier run's would
    be left beside this run's, and a forced run removes them at its end
    (:func:`remove_stale_outputs`). ``inputs``: the data folders; ``out`` may not be one of
    them or lie inside one (nothing is ever written into the data). ``input_files``: other
    inputs (a truth CSV; None is skipped); ``out`` may not be the folder that holds one (a
    benchmark's ``truth/`` reads every CSV in it).
    """
    out = Path(out)
    names, stale = list(names), list(stale)
    if out.is_symlink() and not out.exists():
        raise SynthprintError(f"{out}: is a link to a folder that does not exist; give "
                              "--out a real folder")
    if out.exists() and not out.is_dir():
        raise SynthprintError(f"{out}: is a file; --out must be a folder")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise SynthprintError(f"{out}: {parent} is a file, so --out cannot be made there")
            break
    check_outside_data(out, inputs, "--out")
    if not _being_written(out):   # else its run's files are moving: checked under the lock
        check_no_interrupted_commit(out)
    for file in input_files:
        if file is not None and out.resolve() == Path(file).resolve().parent:
            raise SynthprintError(f"{out}: holds the input {file}; this run's files would be "
                                  "written beside it: choose another --out")
    _check_writable(out if out.exists() else next(p for p in out.parents if p.exists()), out)
    for folder in inputs:
        data = Path(folder).resolve()
        for name in names + stale:
            if data.is_relative_to((out / name).resolve()):
                raise SynthprintError(f"{folder}: is this run's input and an output of an "
                                      f"earlier run ({out / name}), which this run would "
                                      "replace or remove: choose another --out")
    for name in names:
        check_can_write(out / name, force)
    for name in stale:
        if (out / name).exists() and not force:
            raise OutputExistsError(f"{out / name}: an earlier run's output, which this run "
                                    "does not write; pass --force to remove it (or choose "
                                    "another --out)")
    return out


def _remove(path: Path) -> bool:
    """Remove the file, folder or link ``path`` (a link itself, never what it points at);
    False when there is nothing of that name."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    else:
        return False
    return True


def remove_stale_outputs(out: str | Path, stale: Iterable[str]) -> list[str]:
    """Remove the files (or folders) ``stale`` of ``out`` that an earlier run wrote and this
    run replaced by nothing (see :func:`prepare_output_dir`); returns the names removed."""
    return [name for name in stale if _remove(Path(out) / name)]


def replace_folder(new: str | Path, folder: str | Path) -> Path:
    """Rename the finished folder ``new`` (beside ``folder``) to ``folder``. An existing
    ``folder``, or a link of that name, is moved aside first, put back if the rename fails,
    and removed after: readers see the old folder or the new one, never a mix."""
    new, folder = Path(new), Path(folder)
    if not folder.exists() and not folder.is_symlink():
        new.rename(folder)
        return folder
    aside = folder.parent / f".{folder.name}.{secrets.token_hex(6)}.old"
    folder.rename(aside)
    try:
        new.rename(folder)
    except BaseException:
        aside.rename(folder)
        raise
    _remove(aside)
    return folder


def temp_folder_name(parent: Path, name: str) -> Path:
    """A fresh hidden name ``.NAME.<12 hex>.tmp`` in ``parent`` to build ``name`` under."""
    return parent / f".{name}.{secrets.token_hex(6)}.tmp"


def remove_leftover_temps(parent: Path, name: str) -> None:
    """Remove the folders :func:`temp_folder_name` gave for ``name`` in ``parent`` that a
    killed run left behind (the match is exact: ``.NAME.v2.<hex>.tmp`` is not one)."""
    for left in _temp_folders(parent, name):
        shutil.rmtree(left)


def _temp_folders(parent: Path, name: str) -> list[Path]:
    """The folders (not links) in ``parent`` named as :func:`temp_folder_name` names them
    for ``name``, exactly (``.NAME.v2.<hex>.tmp`` is not one), in name order."""
    ours = re.compile(rf"\.{re.escape(name)}\.[0-9a-f]{{12}}\.tmp")
    return [p for p in sorted(parent.iterdir())
            if ours.fullmatch(p.name) and p.is_dir() and not p.is_symlink()]


@dataclass
class StagedOutputs:
    """Where :func:`staged_outputs` has a run write its files (``path``), and, after the
    commit, the earlier run's outputs it removed (``removed``)."""

    path: Path
    removed: list[str] = field(default_factory=list)


def _in_out(exc: OSError, stage: Path, out: Path) -> OSError:
    """``exc`` naming ``out``'s file instead of its hidden copy in ``stage`` (others as they
    are: an input that could not be read keeps its own name)."""
    name = exc.filename
    if name is None or not Path(name).is_relative_to(stage):
        return exc
    inside = Path(name).relative_to(stage).parts
    where = out / inside[0] if inside else out
    return OSError(exc.errno, exc.strerror or str(exc), str(where))


def _commit(stage: Path, out: Path, force: bool) -> None:
    """Move every entry of ``stage`` into ``out``, replacing the entries of the same names
    as one set: the old ones are moved aside first, and if anything fails (or is
    interrupted) every step is undone (:func:`_roll_back`) before the error is raised.
    Unless ``force``, an entry of ``out`` with a staged name is refused
    (:class:`OutputExistsError`) and nothing is replaced."""
    names = sorted(p.name for p in stage.iterdir())
    if not force:
        for name in names:
            if _exists(out / name):
                raise OutputExistsError(
                    f"{out / name}: was written by another run while this one worked; pass "
                    "--force to replace it (or choose another --out)")
    aside = temp_folder_name(out, "run-old")
    aside.mkdir()
    try:
        for name in names:
            target = out / name
            if _exists(target):
                target.rename(aside / name)
            (stage / name).rename(target)
    except BaseException:
        left = _roll_back(names, stage, aside, out)
        if left:
            raise SynthprintError(
                f"{out}: the run failed while replacing its files, and putting the earlier "
                f"run's back failed too ({left[0]}); they are in {aside}: move them back "
                "into the folder") from None
        raise
    shutil.rmtree(aside)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _roll_back(names: list[str], stage: Path, aside: Path, out: Path) -> list[str]:
    """Undo a partial :func:`_commit`, reading what was done from the folders themselves:
    an entry gone from ``stage`` is in ``out`` and is removed; an entry in ``aside`` goes
    back to ``out``. Every step is tried; returns what failed (then ``aside`` is kept)."""
    failed: list[str] = []
    for name in names:
        try:
            if not _exists(stage / name):
                _remove(out / name)
            if _exists(aside / name):
                (aside / name).rename(out / name)
        except OSError as exc:
            failed.append(f"{name}: {exc.strerror or exc}")
    if not failed:
        shutil.rmtree(aside, ignore_errors=True)
    return failed


def check_no_interrupted_commit(out: Path) -> None:
    """Raise when ``out`` holds a non-empty ``.run-old.<hex>.tmp`` folder: a run was killed
    while replacing its files, and the earlier run's files are still there. (An empty one
    may be a concurrent run's, just made: :func:`staged_outputs` removes those under its
    lock.)"""
    if not out.is_dir():
        return
    for left in _temp_folders(out, "run-old"):
        if any(left.iterdir()):
            raise SynthprintError(
                f"{left}: holds an earlier run's files, left when a run was stopped while "
                f"replacing them; move them back into {out} (or delete {left}) and run again")


def _lock_fd(out: Path) -> int | None:
    """An open descriptor of the folder ``out`` to ``flock``, or None where locks cannot be
    had (no ``fcntl`` on Windows, a folder that cannot be opened for reading): runs there
    are not serialised, as before this lock existed."""
    if fcntl is None:
        return None
    try:
        return os.open(out, os.O_RDONLY)
    except OSError:
        return None


def _try_lock(fd: int) -> bool | None:
    """Take ``fd``'s exclusive lock without waiting: True when taken, False when another run
    holds it, None when this filesystem has no locks (NFS without a lock daemon, ...)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def _being_written(out: Path) -> bool:
    """Whether another run holds ``out``'s :func:`_writing_lock` now."""
    fd = _lock_fd(out) if out.is_dir() else None
    if fd is None:
        return False
    try:
        return _try_lock(fd) is False
    finally:
        os.close(fd)


@contextmanager
def _writing_lock(out: Path, on_wait: Callable[[], None] | None) -> Iterator[None]:
    """Hold an exclusive advisory lock (``flock``) on the folder ``out`` itself, so runs
    writing into the same folder take turns; the system releases it when the process ends,
    however it ends, and it leaves no file behind. ``on_wait`` is called once when another
    run holds it and this one waits. Where locks cannot be had the block runs unlocked."""
    fd = _lock_fd(out)
    if fd is None:
        yield
        return
    try:
        if _try_lock(fd) is False:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def staged_outputs(out: str | Path, *, stale: Iterable[str] = (), force: bool = True,
                   on_wait: Callable[[], None] | None = None) -> Iterator[StagedOutputs]:
    """Write a run's outputs as one set: the block writes them into a hidden folder in
    ``out`` (``staged.path``); when it ends without error they replace the files or folders
    of their names in ``out`` together (:func:`_commit`) and the ``stale`` outputs of an
    earlier run are removed (:func:`remove_stale_outputs`). An error or an interrupt (a full
    disk, Ctrl-C while the report renders, a name taken by a folder) leaves ``out`` as it
    was, never the new run's files beside the old run's; an ``OSError`` names the file in
    ``out``, not its hidden copy. Call after :func:`prepare_output_dir` checked the names.

    Runs sharing ``out`` take turns (:func:`_writing_lock`; ``on_wait`` is called when this
    one has to wait). ``force=False`` refuses, replacing nothing, an output that another
    run wrote after :func:`prepare_output_dir` found the name free.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with _writing_lock(out, on_wait):
        check_no_interrupted_commit(out)
        remove_leftover_temps(out, "run-old")   # empty ones: a run stopped before moving
        remove_leftover_temps(out, "run")
        stage = temp_folder_name(out, "run")
        stage.mkdir()
        staged = StagedOutputs(stage)
        try:
            yield staged
            _commit(stage, out, force)
            staged.removed = remove_stale_outputs(out, stale)
        except OSError as exc:
            renamed = _in_out(exc, stage, out)
            if renamed is exc:
                raise
            raise renamed from exc
        finally:
            shutil.rmtree(stage, ignore_errors=True)
