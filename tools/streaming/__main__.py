from tools.streaming.start import main

raise SystemExit(main())
