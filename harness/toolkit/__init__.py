"""The toolkit check bodies use: the type codec, migrations, schema introspection, retries."""
