from upkeep.cli import main

raise SystemExit(main())
