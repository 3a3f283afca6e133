"""Speed, kept apart from the equations: the same arithmetic, in two fast forms.

    purebp.fast.unrolled   one training epoch written out as straight-line Python
                           for a network's shape, compiled once per shape
    purebp.fast.rows       the reference's matrix arithmetic, its dot products as
                           sum(map(mul, ...)) where sum adds left to right
    purebp.fast.cache      the compiled code on disk, so a new process loads it
                           instead of compiling it again (PUREBP_CACHE_DIR)
    purebp.fast.loop       the training loop that runs either, chunk by chunk between
                           log lines, falling back to the readable code on divergence;
                           choose() picks the faster for the shape and interpreter
    purebp.fast.conv       Conv2d's forward and backward as dot products over patches
                           (purebp.layers.conv holds the reference loops)

Nothing here is a second formula: the written-out code is built from each
activation's and loss's own code form (purebp.activations, purebp.losses),
the rows form calls the reference's own functions but for its products,
and the tests hold both to the readable code's bits. purebp/docs/speed.md explains it.
"""
