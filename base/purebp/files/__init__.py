"""Files purebp writes and reads: model files, and the safe JSON they share with test vectors.

    purebp.files.model      save, load and resume networks (docs/model-format.md)
    purebp.files.jsonfile   bounded, validated JSON reading and atomic writing

Nothing in a file is ever executed; every field is checked before use.
"""
