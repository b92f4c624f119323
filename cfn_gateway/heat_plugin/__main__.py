"""``python -m cfn_gateway.heat_plugin``: print the directory to add to Heat's plugin_dirs."""

from pathlib import Path


def plugin_dir() -> str:
    """The directory holding the loader module Heat's ``plugin_dirs`` should name."""
    return str(Path(__file__).resolve().parent / "loader")


if __name__ == "__main__":
    print(plugin_dir())
