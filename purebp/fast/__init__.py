"""Speed, kept apart from the equations: the same arithmetic, written out.

    purebp.fast.unrolled   one training epoch written out as straight-line Python
                           for a network's shape, compiled once per shape
    purebp.fast.cache      the compiled code on disk, so a new process loads it
                           instead of compiling it again (PUREBP_CACHE_DIR)
    purebp.fast.loop       the training loop that runs it, chunk by chunk between
                           log lines, falling back to the readable code on divergence

Nothing here is a second formula: the written-out code is built from each
activation's and loss's own code form (purebp.activations, purebp.losses),
and the tests hold it to the readable code's bits. purebp/docs/speed.md explains it.
"""
