"""The compatibility report: model, builder, writers and renderers."""
