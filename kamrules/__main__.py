"""`python -m kamrules ...`"""

from kamrules.cli import main

main()
