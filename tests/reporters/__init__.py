"""Reporter tests (a package, so this conftest is not the top-level ``conftest`` module)."""
