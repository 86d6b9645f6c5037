"""One module per console area; each has a `router` whose routes all declare an action."""
