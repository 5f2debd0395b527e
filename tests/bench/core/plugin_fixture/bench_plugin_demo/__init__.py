"""Demo plugin for the bench toolkit (test fixture)."""
