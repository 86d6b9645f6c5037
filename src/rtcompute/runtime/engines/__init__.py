"""Engine versions on this machine: the installer and the warm PyFlink workers."""
