"""Files and folders only the gateway's own user may read: the data it keeps is private.

Metric data and credentials live under the data folder; everything the gateway creates
there is mode 0700 (folders) or 0600 (files), whatever the process umask.  A file left by
an earlier version with wider permissions is narrowed when it is opened again.
"""

from __future__ import annotations

import contextlib
import os
import stat

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: str) -> str:
    """Create ``path`` (and missing parents) as 0700 folders; an existing folder is left
    as it is (it may be shared, like /tmp).  Returns the absolute path."""
    path = os.path.abspath(path)
    missing = []
    head = path
    while not os.path.isdir(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, FOLDER_MODE)
        except FileExistsError:
            continue
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is masked by the umask
    return path


def private_file(path: str) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist; narrow it to 0600 if it
    does and others may read it."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    narrow(path)


def narrow(path: str) -> None:
    """Take group and other permissions away from an existing file."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        os.chmod(path, mode & 0o700)
