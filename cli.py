"""Run kamrules from a source checkout without installing: `python cli.py evaluate ...`."""

from kamrules.cli import main

if __name__ == "__main__":
    main()
