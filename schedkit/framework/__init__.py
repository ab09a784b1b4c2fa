"""The scheduling framework: plugin API, registry, configuration, profiles and the compiled loop."""
