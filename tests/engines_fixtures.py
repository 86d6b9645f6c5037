"""Engine fixtures (filled by the installer work): the wheelhouse and installed versions."""
