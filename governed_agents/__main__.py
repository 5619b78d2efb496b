import sys

from governed_agents.cli import main

sys.exit(main())
