"""What the decode workers' fork server imports before it forks them: the decoders, and neither
pandas nor numpy (see collector/import_guard.py). The guard must come before pyarrow's import,
which is why it lives in a module of its own."""

from collector.import_guard import keep_out

keep_out("pandas", "numpy")

import collector.decode_pool  # noqa: E402, F401  (after the guard, on purpose)
