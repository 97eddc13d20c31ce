import sys

from loadtests.peak.cli import main

sys.exit(main())
