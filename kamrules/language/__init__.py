"""The condition language: a hand-written tokenizer and parser into one engine-neutral expression
tree, name resolution and types, and its row and vector semantics (three-valued logic)."""
