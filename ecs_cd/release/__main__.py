import sys

from ecs_cd.release.cli import main

sys.exit(main())
