from dask_parallel.cli import main

raise SystemExit(main())
