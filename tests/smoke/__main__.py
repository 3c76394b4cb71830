from tests.smoke.run import main

raise SystemExit(main())
