"""The one exception type the toolkit raises for bad input.

Every message is a single line that names the file (or row, or key) and says how to fix it; the
command line prints it as ``error: <message>`` and exits with status 2.
"""


class InputError(Exception):
    """Bad input: a corpus file, metadata row, study file, codebook or rule file is unusable.

    The message is one line: where (the file, key or row), what is wrong and the fix. The command
    line prints it and exits with status 2 before writing anything.

    >>> error = InputError("study.toml", "[topics] k = 0 is not usable", "set k to 2 or more")
    >>> print(error)
    study.toml: [topics] k = 0 is not usable (fix: set k to 2 or more)
    >>> error.where, error.fix
    ('study.toml', 'set k to 2 or more')

    A part that spans lines (another library's message quoted in it) is joined into the one line:

    >>> print(InputError("[run] scheduler", "lost (CommClosedError: in <TCP>:\\n  Stream is closed)"))
    [run] scheduler: lost (CommClosedError: in <TCP>: Stream is closed)
    """

    def __init__(self, where: str, problem: str, fix: str = ""):
        self.where = _one_line(str(where))
        self.problem = _one_line(str(problem))
        self.fix = _one_line(str(fix))
        message = f"{self.where}: {self.problem}"
        if self.fix:
            message += f" (fix: {self.fix})"
        super().__init__(message)

    def __reduce__(self):
        # Rebuild from the three parts, so the error crosses process boundaries (worker pools, Dask).
        return (type(self), (self.where, self.problem, self.fix))


def _one_line(text: str) -> str:
    """``text`` with every line break (and the spaces around it) made one space."""
    import re

    return re.sub(r"\s*[\r\n]+\s*", " ", text)


def write_failure(exc: OSError, *, is_folder: str) -> str:
    """Why a write failed, in a few words a researcher can act on (disk full, quota, read-only,
    no permission); ``is_folder`` is said when the target is a folder (EISDIR); any other error
    keeps the system's own message. Shared by the output writers and the preparation cache."""
    import errno

    return {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "no permission to write there",
        errno.EPERM: "no permission to write there",
        errno.EISDIR: is_folder,
    }.get(exc.errno, exc.strerror or str(exc))
