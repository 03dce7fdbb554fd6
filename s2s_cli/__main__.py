import sys

from s2s_cli import main

sys.exit(main())
