"""Guards on the template folder: a template is read only from inside its own search-path folder.

Jinja's FileSystemLoader follows symlinks, so `ln -s /etc tpl/etc` plus `{% include "etc/passwd" %}`,
or `report.html.j2 -> /etc/passwd`, would copy any readable file into the outputs; git stores
symlinks, so a shared template repository is enough. `ConfinedFileSystemLoader` resolves every
template path and reads it through `kamrules.pack.guards.read_source`, which refuses a target outside
the folder, anything but a regular file (FIFO, device) and an oversized file.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from jinja2 import FileSystemLoader, TemplateNotFound
from jinja2.loaders import split_template_path

from kamrules.errors import TemplateError
from kamrules.pack.guards import SourceError, read_source


class ConfinedFileSystemLoader(FileSystemLoader):
    """A FileSystemLoader that never reads outside its search-path folders (see the module docstring)."""

    def get_source(self, environment, template):
        pieces = split_template_path(template)
        for searchpath in self.searchpath:
            filename = posixpath.join(searchpath, *pieces)
            if os.path.lexists(filename) and not os.path.isdir(filename):
                break
        else:
            raise TemplateNotFound(template)
        try:
            contents = read_source(Path(filename), Path(searchpath)).decode(self.encoding)
        except SourceError as exc:
            raise TemplateError(f"template '{template}': {exc}") from None
        except UnicodeDecodeError as exc:
            raise TemplateError(f"template '{template}': not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
        except OSError as exc:
            raise TemplateError(f"template '{template}': cannot read {filename} ({exc.strerror})") from None
        mtime = os.path.getmtime(filename)

        def uptodate() -> bool:
            try:
                return os.path.getmtime(filename) == mtime
            except OSError:
                return False

        return contents, os.path.normpath(filename), uptodate
