from changelog.cli import main

raise SystemExit(main())
