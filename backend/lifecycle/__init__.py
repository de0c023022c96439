"""Data lifecycle: retention per record class, subject-access export, rectification and erasure."""
